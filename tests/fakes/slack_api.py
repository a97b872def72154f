"""A fake Slack: the Web API on loopback (port 0), and the Slack platform's side of HTTP mode.

`FakeSlack` answers like Slack's Web API (`/api/<method>`), the response_url (`/respond/<n>`), file uploads
(`/upload/<id>`) and files users shared (`add_file`: files.info, and the `url_private_download` GET that needs
the bot token — without it Slack answers with its sign-in page), records every call (`calls`, `wait(method)`), checks Block Kit limits and answers
`invalid_blocks` when one is broken (`problems`), and fails on request (`fail(method, status=429, ...)`).

`SlackPlatform` plays Slack sending requests to the app: correctly signed (HMAC-SHA256 `v0:`) slash commands,
block_actions, view_submissions, shortcuts and events, with helpers that find buttons in recorded messages.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote

from tests.fakes.slack_blocks import message_problems, view_problems

TOKEN = "xoxb-test-token"
MESSAGE_METHODS = {"chat.postMessage", "chat.update", "chat.postEphemeral", "response_url"}
VIEW_METHODS = {"views.open", "views.update", "views.push", "views.publish"}


@dataclass
class Call:
    method: str
    args: dict
    headers: dict
    result: dict = field(default_factory=dict)

    @property
    def blocks(self) -> list[dict]:
        return self.args.get("blocks") or (self.args.get("view") or {}).get("blocks") or []


def _parse(body: bytes, ctype: str) -> dict:
    if not body:
        return {}
    if "json" in ctype:
        return json.loads(body)
    out: dict[str, Any] = {}
    for k, v in parse_qsl(body.decode(), keep_blank_values=True):
        if v[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                v = json.loads(v)
        out[k] = v
    return out


class FakeSlack:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.problems: list[str] = []
        self.failures: dict[str, list[tuple[int, dict, dict]]] = {}
        self.users: dict[str, dict] = {}  # the workspace's people: users.info, users.lookupByEmail
        self._cond = threading.Condition()
        self._seq = itertools.count(1)
        self.httpd: ThreadingHTTPServer | None = None
        self.files: dict[str, tuple[dict, bytes]] = {}  # file id → (file object, content)
        self.downloads: list[tuple[str, str]] = []  # (path, Authorization header) of each file download

    # ------------------------------------------------------------ lifecycle
    def start(self) -> FakeSlack:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()

    @property
    def url(self) -> str:
        assert self.httpd is not None
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self) -> str:
        return f"{self.url}/respond/{next(self._seq)}"

    # ------------------------------------------------------------ test controls
    def fail(self, method: str, *, status: int = 429, error: str = "ratelimited", times: int = 1,
             headers: dict | None = None) -> None:
        """The next `times` calls of `method` fail (429 sends Retry-After: 0 unless told otherwise)."""
        if status == 429 and headers is None:
            headers = {"Retry-After": "0"}
        self.failures.setdefault(method, []).extend([(status, {"ok": False, "error": error}, headers or {})] * times)

    def add_user(self, user_id: str, email: str | None, *, name: str = "", deleted: bool = False,
                 is_bot: bool = False) -> None:
        """A member of the fake workspace (as users.info and users.lookupByEmail describe one)."""
        profile = {"real_name": name or user_id, "display_name": name or user_id}
        if email is not None:
            profile["email"] = email
        self.users[user_id] = {"id": user_id, "team_id": "T1", "name": (name or user_id).lower(), "deleted": deleted,
                               "is_bot": is_bot, "is_app_user": False, "profile": profile}

    def add_file(self, name: str, content: bytes, *, size: int | None = None) -> dict:
        """A file a user shared: its file object as files.info gives it (`size` overrides the stated size)."""
        fid = f"F{next(self._seq):07d}"
        obj = {"id": fid, "name": name, "title": name, "mimetype": "text/csv", "filetype": name.rsplit(".", 1)[-1],
               "size": len(content) if size is None else size, "mode": "hosted", "is_external": False,
               "url_private": f"{self.url}/files-pri/T1-{fid}/{quote(name)}",
               "url_private_download": f"{self.url}/files-pri/T1-{fid}/download/{quote(name)}"}
        self.files[fid] = (obj, content)
        return obj

    def download(self, path: str, auth: str) -> tuple[int, str, bytes]:
        with self._cond:
            self.downloads.append((path, auth))
            self._cond.notify_all()
        fid = path.split("/")[2].split("-", 1)[-1] if path.count("/") >= 3 else ""
        if auth != f"Bearer {self.token}":
            return 200, "text/html", b"<html><body>Sign in to Slack</body></html>"
        if fid not in self.files:
            return 404, "text/plain", b"not found"
        return 200, "application/octet-stream", self.files[fid][1]

    def calls_to(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def wait(self, method: str, n: int = 1, timeout: float = 10.0) -> list[Call]:
        """The first `n` calls of `method`, waiting for them to arrive (the app answers after its ack)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [c for c in self.calls if c.method == method]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {n} call(s) to {method}; got {[c.method for c in self.calls]}")
                self._cond.wait(left)

    def last(self, method: str) -> Call:
        return self.wait(method)[-1]

    def clear(self) -> None:
        with self._cond:
            self.calls.clear()

    # ------------------------------------------------------------ answering
    def answer(self, method: str, args: dict, headers: dict) -> tuple[int, dict, dict]:
        if method not in ("response_url", "upload") and headers.get("authorization") != f"Bearer {self.token}":
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        queued = self.failures.get(method)
        if queued:
            status, body, hdrs = queued.pop(0)
            self._record(Call(method, args, headers, body))
            return status, body, hdrs
        problems = (message_problems(args) if method in MESSAGE_METHODS
                    else view_problems(args.get("view") or {}) if method in VIEW_METHODS else [])
        if problems:
            self.problems.extend(f"{method}: {p}" for p in problems)
            body = {"ok": False, "error": "invalid_blocks", "response_metadata": {"messages": problems}}
            self._record(Call(method, args, headers, body))
            return 200, body, {}
        body = self._result(method, args)
        self._record(Call(method, args, headers, body))
        return 200, body, {}

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    def _result(self, method: str, args: dict) -> dict:
        n = next(self._seq)
        ts = f"1700000000.{n:06d}"
        if method == "auth.test":
            return {"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "crm", "team_id": "T1",
                    "user_id": "UBOT", "bot_id": "BBOT"}
        if method in ("chat.postMessage", "chat.update"):
            ch = str(args.get("channel", ""))
            ch = "D" + ch[1:] if ch.startswith("U") else ch
            return {"ok": True, "channel": ch, "ts": args.get("ts") or ts,
                    "message": {"text": args.get("text"), "blocks": args.get("blocks"), "ts": ts}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method in VIEW_METHODS:
            view = dict(args.get("view") or {})
            view.update(id=args.get("view_id") or f"V{n:05d}", hash=f"h{n}")
            return {"ok": True, "view": view}
        if method == "users.info":
            user = self.users.get(str(args.get("user", "")))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "users.lookupByEmail":
            want = str(args.get("email", "")).lower()
            hits = [u for u in self.users.values() if (u["profile"].get("email") or "").lower() == want]
            return {"ok": True, "user": hits[0]} if hits else {"ok": False, "error": "users_not_found"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", "X"))[1:]}}
        if method == "files.info":
            got = self.files.get(str(args.get("file", "")))
            return {"ok": True, "file": got[0]} if got else {"ok": False, "error": "file_not_found"}
        if method == "files.getUploadURLExternal":
            return {"ok": True, "upload_url": f"{self.url}/upload/F{n}", "file_id": f"F{n}"}
        if method == "files.completeUploadExternal":
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in args.get("files", [])]}
        return {"ok": True}


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - users.info / users.lookupByEmail (slack_sdk GETs), or a file
            headers = {k.lower(): v for k, v in self.headers.items()}
            path, _, query = self.path.partition("?")
            if not path.startswith("/api/"):  # a file's url_private_download
                status, ctype, data = fake.download(path, self.headers.get("Authorization") or "")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            status, answer, extra = fake.answer(path[5:], dict(parse_qsl(query, keep_blank_values=True)), headers)
            self._send(status, answer, extra, "application/json")

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            path = self.path.split("?")[0]
            if path.startswith("/api/"):
                method, args = path[5:], _parse(body, headers.get("content-type", ""))
            elif path.startswith("/respond/"):
                method, args = "response_url", _parse(body, "json")
            else:
                method, args = "upload", {"path": path, "size": len(body), "head": body[:8]}
            status, answer, extra = fake.answer(method, args, headers)
            if method == "response_url" and status == 200:
                self._send(status, b"ok", extra, "text/plain")
            else:
                self._send(status, answer, extra, "application/json")

        def _send(self, status: int, answer: dict | bytes, extra: dict, ctype: str) -> None:
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            for k, v in extra.items():
                self.send_header(k, v)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


# ---------------------------------------------------------------- Slack's side: signed requests to the app


@dataclass
class Resp:
    status: int
    body: str

    def json(self) -> dict:
        return json.loads(self.body) if self.body.strip() else {}


def sign(secret: str, timestamp: str, raw: str) -> str:
    base = f"v0:{timestamp}:{raw}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def find_element(blocks: list[dict], label: str) -> dict:
    """The button (or select option, as a block_actions action) whose text starts with `label`."""
    for b in blocks:
        els = list(b.get("elements") or []) + ([b["accessory"]] if "accessory" in b else [])
        for el in els:
            if el.get("type") == "button" and el["text"]["text"].startswith(label):
                return {"type": "button", "action_id": el["action_id"], "value": el["value"],
                        "block_id": b.get("block_id", "b"), "text": el["text"]}
            for o in el.get("options") or []:
                if o["text"]["text"].startswith(label):
                    return {"type": "static_select", "action_id": el["action_id"], "selected_option": o,
                            "block_id": b.get("block_id", "b")}
    raise AssertionError(f"no button or option {label!r} in blocks")


def find_by_cmd(blocks: list[dict], prefix: str) -> dict:
    """The button or option whose signed command (the token before its first `|`) starts with `prefix`."""
    for b in blocks:
        for el in list(b.get("elements") or []) + ([b["accessory"]] if "accessory" in b else []):
            if el.get("type") == "button" and el.get("value", "").split("|")[0].startswith(prefix):
                return {"type": "button", "action_id": el["action_id"], "value": el["value"],
                        "block_id": b.get("block_id", "b"), "text": el["text"]}
            for o in el.get("options") or []:
                if o["value"].split("|")[0].startswith(prefix):
                    return {"type": "static_select", "action_id": el["action_id"], "selected_option": o,
                            "block_id": b.get("block_id", "b")}
    raise AssertionError(f"no button or option for {prefix!r}; commands: {commands(blocks)}")


def commands(blocks: list[dict]) -> list[str]:
    out = []
    for b in blocks:
        for el in list(b.get("elements") or []) + ([b["accessory"]] if "accessory" in b else []):
            if el.get("type") == "button":
                out.append(el.get("value", "").split("|")[0])
            out.extend(o["value"].split("|")[0] for o in el.get("options") or [])
    return out


def labels(blocks: list[dict]) -> list[str]:
    out = []
    for b in blocks:
        for el in list(b.get("elements") or []) + ([b["accessory"]] if "accessory" in b else []):
            if el.get("type") == "button":
                out.append(el["text"]["text"])
            out.extend(o["text"]["text"] for o in el.get("options") or [])
    return out
