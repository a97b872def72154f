"""The Slack `Transport` for the outbox sender: chat.postMessage / chat.update (and files_upload_v2).

Slack errors map onto the delivery contract: HTTP 429 (`ratelimited`) → `RetryAfter(Retry-After)`, 5xx and
network failures → `Transient`, anything else (`channel_not_found`, `not_in_channel`, …) → `Permanent`. The
WebClient already retries one 429 after Retry-After (RateLimitErrorRetryHandler); what still fails goes back to
the outbox, which keeps the row and retries later. A message ref is `<channel id>|<ts>`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.delivery import Permanent, RetryAfter, Transient
from bot.slack import render
from handlers.views import Action, Reply

log = logging.getLogger("crm.slack")

TRANSIENT_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}


def retry_after(headers: Mapping[str, object] | None, *, missing: float) -> float | None:
    """Slack's `Retry-After` header in seconds (the one parser): `missing` without the header, None when it is
    not a number of seconds. Header names are matched case-insensitively; a value may come as a one-item list."""
    for k, v in (headers or {}).items():
        if k.lower() == "retry-after":
            raw = v[0] if isinstance(v, list) else v
            try:
                seconds = float(raw or 0)
            except (TypeError, ValueError):
                return None
            return seconds if 0 <= seconds < float("inf") else None
    return missing


def delivery_error(e: Exception) -> Exception:
    """A Slack client failure as RetryAfter / Transient / Permanent."""
    if isinstance(e, SlackApiError):
        status = getattr(e.response, "status_code", 0) or 0
        error = (e.response.get("error") if isinstance(e.response.data, dict) else "") or ""
        if status == 429 or error == "ratelimited":
            wait = retry_after(e.response.headers, missing=1.0)
            seconds = 1.0 if wait is None else wait
            return RetryAfter(seconds, f"slack: rate limited, retry after {seconds}s")
        if status >= 500 or error in TRANSIENT_ERRORS:
            return Transient(f"slack: HTTP {status} {error}".strip())
        return Permanent(f"slack: {error or f'HTTP {status}'}")
    if isinstance(e, URLError | OSError | TimeoutError | SlackClientError):
        return Transient(f"slack: {type(e).__name__}")
    return e


class SlackTransport:
    platform = "slack"

    def __init__(self, client: WebClient, *, signer: Callable[[str], Callable[[Action], str]],
                 lang: str | Callable[[str], str], stash: render.Stash | None = None) -> None:
        self.client = client
        self.signer = signer  # scope → sign(action)
        self.lang = lang  # a language, or chat → the recipient's language (for "more", "page 2 of 3")
        self.stash = stash

    def _payload(self, reply: Reply, scope: str, chat_ref: str) -> dict:
        lang = self.lang(chat_ref) if callable(self.lang) else self.lang
        return render.message(reply, sign=self.signer(scope), lang=lang, stash=self.stash)

    def send(self, chat_ref: str, reply: Reply, *, scope: str) -> str:
        try:
            resp = self._post(chat_ref, self._payload(reply, scope, chat_ref))
            channel, ts = resp.get("channel") or chat_ref, resp.get("ts") or ""
            if reply.file:
                self.upload(channel, reply)
        except Exception as e:  # noqa: BLE001 - mapped onto the delivery contract
            raise delivery_error(e) from e
        return f"{channel}|{ts}"

    def _post(self, channel: str, payload: dict) -> dict:
        try:
            return self.client.chat_postMessage(channel=channel, unfurl_links=False, unfurl_media=False, **payload)
        except SlackApiError as e:
            if e.response.get("error") not in ("invalid_blocks", "msg_blocks_too_long"):
                raise
            log.error("slack refused blocks (%s); sending the text only", e.response.get("error"))
            return self.client.chat_postMessage(channel=channel, text=payload["text"])

    def edit(self, chat_ref: str, message_ref: str, reply: Reply, *, scope: str) -> None:
        channel, _, ts = message_ref.partition("|")
        if not ts:
            raise Permanent(f"not a Slack message ref: {message_ref!r}")
        try:
            self.client.chat_update(channel=channel, ts=ts, **self._payload(reply, scope, chat_ref))
        except Exception as e:  # noqa: BLE001
            raise delivery_error(e) from e

    def upload(self, channel: str, reply: Reply) -> None:
        f = reply.file
        if f is None:
            return
        self.client.files_upload_v2(channel=channel, file=f.path, filename=f.name, title=f.title or f.name)

