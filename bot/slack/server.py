"""HTTP mode: `POST /slack/events` (slash commands, interactivity, events) and `GET /healthz`.

Requests are verified by Bolt on the raw body (`SLACK_SIGNING_SECRET`; a bad signature or a timestamp older
than 5 minutes → 401, nothing processed). slack-bolt 1.30 answers 404 to a slash command whose form body merely
contains the text "payload" (`/log ACME: payload test`): `parse_form_body` repairs the parsed body while the
signature check still runs on the raw bytes.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from slack_bolt import App, BoltRequest
from slack_bolt.context import BoltContext
from slack_bolt.request.internals import build_context

log = logging.getLogger("crm.slack.http")

EVENTS_PATH = "/slack/events"
MAX_BODY = 1 << 20


def bolt_request(raw: str, query: str, headers: dict[str, str]) -> BoltRequest:
    req = BoltRequest(body=raw, query=query, headers=headers)
    if not req.body and raw and not raw.lstrip().startswith("{"):
        form = dict(parse_qsl(raw, keep_blank_values=True))
        if "payload" not in form:  # slack-bolt 1.30: "payload" anywhere in a form body → {} → 404
            req.body = form
            req.context = build_context(BoltContext({}), form)
    return req


def make_handler(app: App) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args: object) -> None:
            log.debug("%s " + fmt, self.address_string(), *args)

        def _send(self, status: int, body: str, headers: dict | None = None) -> None:
            data = body.encode()
            self.send_response(status)
            ctype = "application/json"
            for k, v in (headers or {}).items():
                vals = v if isinstance(v, list | tuple) else [v]
                if k.lower() == "content-type":
                    ctype = vals[0]
                    continue
                if k.lower() != "content-length":
                    for one in vals:
                        self.send_header(k, one)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            if urlsplit(self.path).path == "/healthz":
                self._send(200, json.dumps({"ok": True}))
            else:
                self._send(404, json.dumps({"error": "not found"}))

        def do_POST(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            if url.path != EVENTS_PATH or length > MAX_BODY:
                self._send(404 if url.path != EVENTS_PATH else 413, json.dumps({"error": "not found"}))
                return
            raw = self.rfile.read(length).decode("utf-8", "replace")
            headers = {k.lower(): v for k, v in self.headers.items()}
            resp = app.dispatch(bolt_request(raw, url.query, headers))
            self._send(resp.status, resp.body or "", resp.headers)

    return Handler


class SlackHTTPServer:
    """A threaded HTTP server for the Bolt app; `port=0` picks a free port (tests)."""

    def __init__(self, app: App, host: str = "0.0.0.0", port: int = 3000) -> None:
        self.httpd = ThreadingHTTPServer((host, port), make_handler(app))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self.httpd.serve_forever(poll_interval=poll_interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), name="slack-http",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)
