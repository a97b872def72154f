"""A fake Telegram Bot API server on loopback, for tests that run the real python-telegram-bot client.

    fake = FakeTelegram().start()            # binds 127.0.0.1:0 in a thread
    fake.root                                 # "http://127.0.0.1:PORT" (what TELEGRAM_API_URL would hold)
    fake.push_message(chat_id=1003, user_id=1003, text="/help")   # queued for getUpdates
    fake.push_callback(chat_id=1003, user_id=1003, data=token, message_id=5)
    fake.wait_for(lambda: fake.sent(chat_id=1003))                # what the bot sent
    fake.fail_next("sendMessage", status=429, retry_after=1)      # answer the next call with an error
    fake.push_document(chat_id=1003, user_id=1003, name="c.csv", content=b"...")  # getFile + download serve it
    fake.stop()

Like Telegram, one token has one long poll at a time: a `getUpdates` that arrives while another is still held
terminates the older one with 409 Conflict ("terminated by other getUpdates request"). `conflicts` counts
them and `max_concurrent_polls` is the most polls held at once (a poll whose client hung up does not count).

It speaks the wire format PTB uses: POST `/bot<token>/<method>` with a form-encoded body whose non-string
values are JSON-encoded (multipart for uploads), answering `{"ok": true, "result": …}`. Every call is recorded
as a `Call(method, params)` with JSON fields decoded. Messages the bot sends get message ids per chat and are
kept, so `editMessageText` can be checked against them ("message is not modified" like the real server).
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from tests.fakes.telegram_limits import alert_problems, keyboard_problems, message_problems

BOT_ID = 999000111
BOT_USERNAME = "crm_test_bot"
_JSON_FIELDS = {
    "reply_markup", "commands", "scope", "allowed_updates", "entities", "show_alert", "drop_pending_updates",
    "disable_notification", "link_preview_options", "chat_id", "message_id", "offset", "limit", "timeout",
    "reply_parameters", "max_connections", "cache_time",
}
_MAX_POLL_WAIT = 0.3  # seconds a getUpdates long poll is held when nothing is queued
CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    result: Any = None  # what the fake answered (the Message for sendMessage)

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)

    @property
    def buttons(self) -> list[dict]:
        """Every inline button of the call's reply_markup, row by row flattened."""
        markup = self.params.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]


def _decode(fields: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in fields.items():
        if k in _JSON_FIELDS:
            try:
                out[k] = json.loads(v)
                continue
            except ValueError:
                pass
        out[k] = v
    return out


def _parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    if not body:
        return {}, {}
    if content_type.startswith("application/json"):
        return json.loads(body), {}
    if content_type.startswith("multipart/form-data"):
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        fields: dict[str, str] = {}
        files: dict[str, bytes] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True) or b""
            if part.get_filename():
                files[name] = data
                fields[name] = f"<file {part.get_filename()}>"
            else:
                fields[name] = data.decode()
        return _decode(fields), files
    return _decode(dict(parse_qsl(body.decode(), keep_blank_values=True))), {}


def _hung_up(h: BaseHTTPRequestHandler) -> bool:
    """Whether the client of a held request closed its connection (a stopped poller)."""
    try:
        readable, _, _ = select.select([h.connection], [], [], 0)
        return bool(readable) and h.connection.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class FakeTelegram:
    """The fake Bot API. Thread-safe; start it before building the Application."""

    def __init__(self, token: str = "123456:TEST-TOKEN") -> None:
        self.token = token
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], dict] = {}  # (chat_id, message_id) → message
        self.webhook: dict[str, Any] = {}
        self.problems: list[str] = []  # every limit a call broke (answered 400, as Telegram does)
        self._updates: list[dict] = []
        self._ids = itertools.count(1000)
        self._msg_ids: dict[int, itertools.count] = {}
        self._errors: dict[str, list[tuple[int, str, dict]]] = {}
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.files: dict[str, bytes] = {}  # file_id → content (documents users sent)
        self.downloads: list[str] = []  # file paths fetched from /file/bot<token>/
        self.conflicts = 0  # getUpdates that met another one still held (two pollers of one token)
        self.max_concurrent_polls = 0
        self._polls: dict[int, BaseHTTPRequestHandler] = {}  # the long polls held now, by arrival number
        self._poll_no = itertools.count(1)
        self._newest_poll = 0

    # ------------------------------------------------------------ lifecycle
    def start(self) -> FakeTelegram:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                fake._serve(self)

            do_GET = do_POST  # noqa: N815

            def log_message(self, *a: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that hung up (the bot stopping mid long-poll) is not news

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-telegram", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def root(self) -> str:
        assert self._server, "start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ------------------------------------------------------------ injecting updates
    def next_update_id(self) -> int:
        return next(self._ids)

    def push_update(self, update: dict) -> int:
        """Queue a raw update (give `update_id` yourself to simulate a redelivery)."""
        update = dict(update)
        update.setdefault("update_id", self.next_update_id())
        with self._cond:
            self._updates.append(update)
            self._cond.notify_all()
        return update["update_id"]

    @staticmethod
    def user(user_id: int, *, first_name: str = "", lang: str | None = "en") -> dict:
        u = {"id": user_id, "is_bot": False, "first_name": first_name or f"User{user_id}"}
        if lang:
            u["language_code"] = lang
        return u

    @staticmethod
    def chat(chat_id: int, *, chat_type: str | None = None, title: str = "Service desk") -> dict:
        chat_type = chat_type or ("private" if chat_id > 0 else "supergroup")
        c: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            c["first_name"] = f"User{chat_id}"
        else:
            c["title"] = title
        return c

    def message_update(self, *, chat_id: int, user_id: int, text: str, lang: str | None = "en",
                       chat_type: str | None = None, first_name: str = "") -> dict:
        msg: dict[str, Any] = {"message_id": self._next_msg_id(chat_id), "date": int(time.time()),
                               "chat": self.chat(chat_id, chat_type=chat_type),
                               "from": self.user(user_id, first_name=first_name, lang=lang), "text": text}
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return {"update_id": self.next_update_id(), "message": msg}

    def push_message(self, *, chat_id: int, user_id: int, text: str, lang: str | None = "en",
                     chat_type: str | None = None, first_name: str = "") -> int:
        return self.push_update(self.message_update(chat_id=chat_id, user_id=user_id, text=text, lang=lang,
                                                    chat_type=chat_type, first_name=first_name))

    def add_file(self, content: bytes, *, name: str, size: int | None = None) -> dict:
        """A Document users can send (its bytes served by getFile + download); `size` overrides the size
        Telegram states (a file too big for a bot to fetch)."""
        file_id = f"BQAC{len(self.files) + 1:04d}"
        self.files[file_id] = content
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": name,
                "mime_type": "text/csv" if name.endswith(".csv") else "application/octet-stream",
                "file_size": len(content) if size is None else size}

    def push_document(self, *, chat_id: int, user_id: int, name: str, content: bytes, caption: str | None = None,
                      size: int | None = None, chat_type: str | None = None, lang: str | None = "en") -> int:
        msg: dict[str, Any] = {"message_id": self._next_msg_id(chat_id), "date": int(time.time()),
                               "chat": self.chat(chat_id, chat_type=chat_type), "from": self.user(user_id, lang=lang),
                               "document": self.add_file(content, name=name, size=size)}
        if caption is not None:
            msg["caption"] = caption
            if caption.startswith("/"):
                msg["caption_entities"] = [{"type": "bot_command", "offset": 0, "length": len(caption.split()[0])}]
        return self.push_update({"message": msg})

    def callback_update(self, *, chat_id: int, user_id: int, data: str, message_id: int | None = None,
                        lang: str | None = "en") -> dict:
        if message_id is None:
            message_id = max((m for c, m in self.messages if c == chat_id), default=1)
        stored = self.messages.get((chat_id, message_id), {})
        message = {"message_id": message_id, "date": int(time.time()),
                   "chat": self.chat(chat_id), "from": self.me(), "text": stored.get("text", "…")}
        uid = self.next_update_id()
        return {"update_id": uid, "callback_query": {
            "id": f"cq{uid}", "from": self.user(user_id, lang=lang), "chat_instance": f"ci{chat_id}",
            "data": data, "message": message}}

    def push_callback(self, *, chat_id: int, user_id: int, data: str, message_id: int | None = None,
                      lang: str | None = "en") -> int:
        return self.push_update(self.callback_update(chat_id=chat_id, user_id=user_id, data=data,
                                                     message_id=message_id, lang=lang))

    def press(self, call: Call, label: str, *, user_id: int | None = None) -> int:
        """Press the button whose label contains `label` on the message `call` sent (by `user_id`, default
        the chat's own id)."""
        for b in call.buttons:
            if label in b["text"]:
                chat_id = int(call["chat_id"])
                mid = (call.result or {}).get("message_id") or call.get("message_id")
                return self.push_callback(chat_id=chat_id, user_id=user_id or chat_id, data=b["callback_data"],
                                          message_id=mid)
        raise AssertionError(f"no button {label!r} in {[b['text'] for b in call.buttons]}")

    def fail_next(self, method: str, *, status: int = 429, retry_after: int | None = None,
                  description: str = "", times: int = 1, chat_id: int | str | None = None) -> None:
        """Answer the next `times` calls of `method` (to `chat_id`, if given) with an error (a 429 carries
        `retry_after`)."""
        params: dict[str, Any] = {}
        if status == 429:
            params["retry_after"] = 1 if retry_after is None else retry_after
            description = description or f"Too Many Requests: retry after {params['retry_after']}"
        description = description or {400: "Bad Request: chat not found", 403: "Forbidden: bot was blocked by "
                                       "the user"}.get(status, "Internal Server Error")
        with self._cond:
            self._errors.setdefault(method, []).extend([(status, description, params, chat_id)] * times)

    # ------------------------------------------------------------ reading what the bot did
    def calls_of(self, method: str, **match: Any) -> list[Call]:
        with self._cond:
            return [c for c in self.calls
                    if c.method == method and all(c.params.get(k) == v for k, v in match.items())]

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Messages delivered by sendMessage (to `chat_id` when given); failed calls are in `calls_of`."""
        return [c for c in self.calls_of("sendMessage", **({"chat_id": chat_id} if chat_id is not None else {}))
                if c.result is not None]

    def wait_for(self, pred: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until `pred()` is truthy (re-checked after every call the bot makes); return its value."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = pred()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting; calls so far: {[c.method for c in self.calls]}")
                self._cond.wait(min(left, 0.2))

    def wait_sent(self, chat_id: int, n: int = 1, *, after: int = 0, timeout: float = 10.0) -> list[Call]:
        """Wait until at least `n` messages went to `chat_id` beyond the first `after`; return the new ones."""
        return self.wait_for(lambda: (s := self.sent(chat_id)[after:]) and len(s) >= n and s, timeout)

    def pending_updates(self) -> int:
        with self._cond:
            return len(self._updates)

    # ------------------------------------------------------------ serving
    def me(self) -> dict:
        return {"id": BOT_ID, "is_bot": True, "first_name": "CRM", "username": BOT_USERNAME,
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    def _next_msg_id(self, chat_id: int) -> int:
        return next(self._msg_ids.setdefault(chat_id, itertools.count(1)))

    def _serve_file(self, h: BaseHTTPRequestHandler, file_path: str) -> None:
        """`GET /file/bot<token>/<file_path>`: the bytes of a file getFile described."""
        file_id = file_path.rsplit("/", 1)[-1].split(".", 1)[0]
        data = self.files.get(file_id)
        with self._cond:
            self.downloads.append(file_path)
            self._cond.notify_all()
        if data is None:
            return self._answer(h, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
        h.send_response(200)
        h.send_header("Content-Type", "application/octet-stream")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        path = unquote(h.path)  # PTB percent-encodes the file URL (the token's ":" too)
        if path.startswith(f"/file/bot{self.token}/"):
            return self._serve_file(h, path[len(f"/file/bot{self.token}/"):])
        prefix = f"/bot{self.token}/"
        if not h.path.startswith(prefix):
            return self._answer(h, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
        method = h.path[len(prefix):]
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        params, files = _parse_body(h.headers.get("Content-Type", ""), body)
        call = Call(method, params, files)
        if method == "getUpdates":
            answer = self._get_updates(params, h)
            return None if answer is None else self._answer(h, *answer)
        with self._cond:
            err = self._take_error(method, params)
            if err is None:
                status, payload = self._result(method, params, files)
            else:
                status, description, extra = err
                payload = {"ok": False, "error_code": status, "description": description}
                if extra:
                    payload["parameters"] = extra
            call.result = payload.get("result")
            self.calls.append(call)
            self._cond.notify_all()
        self._answer(h, status, payload)

    def _take_error(self, method: str, params: dict) -> tuple[int, str, dict] | None:
        errors = self._errors.get(method) or []
        for i, (status, description, extra, chat) in enumerate(errors):
            if chat is None or str(chat) == str(params.get("chat_id")):
                del errors[i]
                return status, description, extra
        return None

    def _answer(self, h: BaseHTTPRequestHandler, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _get_updates(self, params: dict, h: BaseHTTPRequestHandler) -> tuple[int, dict] | None:
        """Hold the poll until updates are queued or its timeout passes; None when the client hung up."""
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), _MAX_POLL_WAIT)
        deadline = time.monotonic() + wait
        with self._cond:
            self.calls.append(Call("getUpdates", params))
            for no, other in list(self._polls.items()):
                if _hung_up(other):
                    del self._polls[no]
            if self._polls:
                self.conflicts += 1
            me = self._newest_poll = next(self._poll_no)
            self._polls[me] = h
            self.max_concurrent_polls = max(self.max_concurrent_polls, len(self._polls))
            self._cond.notify_all()  # an older poll is terminated by this one, as Telegram does
            try:
                while True:
                    if self._newest_poll != me:
                        return 409, {"ok": False, "error_code": 409, "description": CONFLICT}
                    if offset:  # confirmed updates are gone for good
                        self._updates = [u for u in self._updates if u["update_id"] >= offset or u.get("_again")]
                    ready = [u for u in self._updates if u["update_id"] >= offset or u.get("_again")]
                    left = deadline - time.monotonic()
                    if ready or left <= 0:
                        break
                    if _hung_up(h):
                        return None
                    self._cond.wait(min(left, 0.05))
            finally:
                self._polls.pop(me, None)
            for u in ready:
                u.pop("_again", None)
            return 200, {"ok": True, "result": [dict(u) for u in ready[: int(params.get("limit") or 100)]]}

    def redeliver(self, update: dict) -> None:
        """Queue `update` again with its own update_id, even if it was confirmed (a crash before the ack)."""
        self.push_update({**update, "_again": True})

    def _stored(self, chat_id: Any, params: dict, **extra: Any) -> dict:
        chat_id = int(chat_id) if str(chat_id).lstrip("-").isdigit() else chat_id
        mid = self._next_msg_id(chat_id)
        msg = {"message_id": mid, "date": int(time.time()), "chat": self.chat(chat_id) if isinstance(
            chat_id, int) else {"id": -1, "type": "channel"}, "from": self.me(), **extra}
        if params.get("reply_markup"):
            msg["reply_markup"] = params["reply_markup"]
        self.messages[(chat_id, mid)] = msg
        return msg

    def _refused(self, method: str, p: dict) -> tuple[int, dict] | None:
        """A 400 for a call that breaks a Bot API limit (telegram_limits), as the real server answers."""
        if method in ("sendMessage", "editMessageText"):
            problems = message_problems(p)
        elif method == "editMessageReplyMarkup":
            problems = keyboard_problems(p.get("reply_markup"))
        elif method == "answerCallbackQuery":
            problems = alert_problems(p.get("text"))
        else:
            return None
        if not problems:
            return None
        self.problems.extend(f"{method}: {x}" for x in problems)
        return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {problems[0]}"}

    def _result(self, method: str, p: dict, files: dict) -> tuple[int, dict]:
        ok = {"ok": True, "result": True}
        refused = self._refused(method, p)
        if refused:
            return refused
        if method == "getMe":
            return 200, {"ok": True, "result": self.me()}
        if method == "sendMessage":
            return 200, {"ok": True, "result": self._stored(p["chat_id"], p, text=p.get("text", ""))}
        if method == "sendDocument":
            doc = {"file_id": "doc1", "file_unique_id": "d1", "file_name": "file"}
            return 200, {"ok": True, "result": self._stored(p["chat_id"], p, document=doc)}
        if method == "sendPhoto":
            photo = [{"file_id": "ph1", "file_unique_id": "p1", "width": 10, "height": 10}]
            return 200, {"ok": True, "result": self._stored(p["chat_id"], p, photo=photo)}
        if method in ("editMessageText", "editMessageReplyMarkup"):
            return self._edit(method, p)
        if method == "getFile":
            return self._get_file(str(p.get("file_id", "")))
        if method == "setWebhook":
            self.webhook = dict(p)
        elif method == "deleteWebhook":
            self.webhook = {}
        elif method == "getWebhookInfo":
            return 200, {"ok": True, "result": {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                                                "pending_update_count": 0}}
        return 200, ok

    def _get_file(self, file_id: str) -> tuple[int, dict]:
        """Like the Bot API: a File with its `file_path`, refused for files over 20 MB."""
        data = self.files.get(file_id)
        if data is None:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
        if len(data) > 20 * 1024 * 1024:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: file is too big"}
        return 200, {"ok": True, "result": {"file_id": file_id, "file_unique_id": f"u{file_id}",
                                            "file_size": len(data), "file_path": f"documents/{file_id}.bin"}}

    def _edit(self, method: str, p: dict) -> tuple[int, dict]:
        key = (int(p["chat_id"]), int(p["message_id"]))
        msg = self.messages.get(key)
        if msg is None:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message to edit not found"}
        new = dict(msg)
        if method == "editMessageText":
            new["text"] = p.get("text", "")
        if p.get("reply_markup"):
            new["reply_markup"] = p["reply_markup"]
        else:
            new.pop("reply_markup", None)
        if new.get("text") == msg.get("text") and new.get("reply_markup") == msg.get("reply_markup"):
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message is not modified: "
                         "specified new message content and reply markup are exactly the same"}
        self.messages[key] = new
        return 200, {"ok": True, "result": new}
