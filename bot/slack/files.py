"""Files users share with the bot (a spreadsheet for `/import`): files.info, then its `url_private_download`
fetched with the bot token (scope `files:read`) into a private temporary folder, at most `limit` bytes.

The bot token is only ever sent to Slack's file host (`files.slack.com`, any `*.slack.com`) or to the host of
the configured Web API (`SLACK_API_URL`: a proxy, GovSlack, the tests' fake), never to a URL someone put
in an event.
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.error import URLError
from urllib.parse import quote, urlsplit, urlunsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger("crm.slack")

MB = 1 << 20
CHUNK = 1 << 16
TIMEOUT = 60


@dataclass(frozen=True)
class Fetched:
    name: str
    size: int
    path: str  # "" when not downloaded (too big, refused, gone)


def trusted(url: str, api_url: str) -> bool:
    u, api = urlsplit(url), urlsplit(api_url)
    host = (u.hostname or "").lower()
    if u.scheme == "https" and (host == "slack.com" or host.endswith(".slack.com")):
        return True
    return bool(host) and (u.scheme, u.netloc) == (api.scheme, api.netloc)


def fetch(client: WebClient, file_id: str, folder: Path, *, limit: int,
          wanted: Callable[[str, int], bool] = lambda name, size: True) -> Fetched:
    """The shared file `file_id`, downloaded into `folder` unless larger than `limit` bytes or not
    `wanted(name, size)` (the core then says what is wrong with it)."""
    try:
        info = client.files_info(file=file_id)["file"]
    except SlackApiError as e:
        log.warning("files.info %s failed: %s", file_id, e.response.get("error"))
        return Fetched(file_id, 0, "")
    name, size = str(info.get("name") or info.get("title") or "file"), int(info.get("size") or 0)
    url = info.get("url_private_download") or info.get("url_private") or ""
    if size > limit or not wanted(name, size):
        return Fetched(name, size, "")
    if not url or not trusted(url, client.base_url):
        log.warning("file %s: download URL not on Slack's file host, not fetched", file_id)
        return Fetched(name, size, "")
    dest = folder / ("upload" + Path(name).suffix.lower()[:10])
    try:
        got = _download(url, client.token or "", dest, limit)
    except (URLError, OSError, TimeoutError) as e:
        log.warning("download of file %s failed: %s", file_id, type(e).__name__)
        return Fetched(name, size, "")
    if got is None:
        return Fetched(name, max(size, limit + 1), "")
    return Fetched(name, max(got, 0), str(dest) if got >= 0 else "")


def _download(url: str, token: str, dest: Path, limit: int) -> int | None:
    """Bytes written (-1: Slack answered with a web page, i.e. the token may not read files); None when the
    file is larger than `limit` (nothing kept)."""
    u = urlsplit(url)
    url = urlunsplit(u._replace(path=quote(u.path, safe="/%"), query=quote(u.query, safe="=&%")))  # ASCII only
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=TIMEOUT) as r:  # noqa: S310 - a checked Slack URL
        if "text/html" in (r.headers.get("Content-Type") or ""):
            log.warning("Slack answered the file download with a web page: is the files:read scope granted?")
            return -1
        n = 0
        with dest.open("wb") as out:
            while chunk := r.read(CHUNK):
                n += len(chunk)
                if n > limit:
                    break
                out.write(chunk)
    if n > limit:
        dest.unlink(missing_ok=True)
        return None
    return n
