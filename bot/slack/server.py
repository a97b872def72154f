"""HTTP mode: `POST /slack/events` (slash commands, interactivity, events) on the one HTTP server
(bot/web/server.py).

Order, for every request: the raw body is read within the server's limits; the signature
(`SLACK_SIGNING_SECRET`, `X-Slack-Signature` over `v0:timestamp:body`, timestamp within 5 minutes) is checked
on those bytes (401 otherwise); only then is the body parsed, and its shape checked (a JSON object, a form, a
`payload` field holding a JSON object; `actions` a list of objects, `view`, `event`, `user`, … objects):
anything else is a 400. What passes goes to the Bolt `App` in the server's bounded thread pool; its ack is the
response. Each refusal is one log line (no body, no traceback).

slack-bolt 1.30 answers 404 to a slash command whose form body merely contains the text "payload"
(`/log ACME: payload test`): `bolt_request` repairs the parsed body while Bolt's own signature check still runs
on the raw bytes.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt import App, BoltRequest
from slack_bolt.context import BoltContext
from slack_bolt.request.internals import build_context
from slack_sdk.signature import SignatureVerifier

from bot.web.server import POOL, Handler, Refused, WebServer, read_body

log = logging.getLogger("crm.slack.http")

EVENTS_PATH = "/slack/events"
OBJECTS = ("view", "event", "user", "team", "channel", "container", "message", "enterprise", "state")


def bolt_request(raw: str, query: str, headers: dict[str, str]) -> BoltRequest:
    req = BoltRequest(body=raw, query=query, headers=headers)
    if not req.body and raw and not raw.lstrip().startswith("{"):
        form = dict(parse_qsl(raw, keep_blank_values=True))
        if "payload" not in form:  # slack-bolt 1.30: "payload" anywhere in a form body → {} → 404
            req.body = form
            req.context = build_context(BoltContext({}), form)
    return req


def verify(verifier: SignatureVerifier, raw: bytes, headers) -> None:  # noqa: ANN001 - a CIMultiDict
    """Raise `Refused(401)` unless the request is signed with our secret, and recently."""
    ts = headers.get("X-Slack-Request-Timestamp", "")
    sig = headers.get("X-Slack-Signature", "")
    if not ts or not sig:
        raise Refused(401, "unsigned request (no X-Slack-Signature or timestamp)")
    if not (ts.isascii() and ts.isdigit() and len(ts) <= 12):
        raise Refused(401, "X-Slack-Request-Timestamp is not a number")
    if not verifier.is_valid(raw, ts, sig):
        raise Refused(401, "bad signature or a timestamp older than 5 minutes")


def parse(raw: bytes, content_type: str) -> dict:
    """The body as Slack sends it: JSON (events) or a form (commands; interactivity in `payload`). Raises
    `Refused(400)` for anything else."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "body is not UTF-8") from None
    if content_type == "application/json" or text.lstrip().startswith("{"):
        body = _json_object(text, "JSON body")
    else:
        form = dict(parse_qsl(text, keep_blank_values=True))
        body = _json_object(form["payload"], "payload") if "payload" in form else form
    _check_shape(body)
    return body


def _json_object(text: str, what: str) -> dict:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Refused(400, f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Refused(400, f"{what} is not a JSON object")
    return value


def _check_shape(body: dict) -> None:
    for key in OBJECTS:
        if key in body and body[key] is not None and not isinstance(body[key], dict):
            raise Refused(400, f"`{key}` is not an object")
    acts = body.get("actions")
    if acts is not None and not (isinstance(acts, list) and all(isinstance(a, dict) for a in acts)):
        raise Refused(400, "`actions` is not a list of objects")
    view = body.get("view")
    if isinstance(view, dict) and "state" in view and not isinstance(view["state"], dict | None):
        raise Refused(400, "`view.state` is not an object")


def slack_route(app: App, signing_secret: str) -> Handler:
    verifier = SignatureVerifier(signing_secret)

    async def on_slack_request(request: web.Request) -> web.Response:
        raw = await read_body(request)
        verify(verifier, raw, request.headers)
        parse(raw, request.content_type)
        headers = {k.lower(): v for k, v in request.headers.items()}
        req = bolt_request(raw.decode("utf-8"), request.query_string, headers)
        ctx = contextvars.copy_context()  # the request id, for the core's log line (see ContextPool)
        resp = await asyncio.get_running_loop().run_in_executor(request.app[POOL], ctx.run, app.dispatch, req)
        out = web.Response(status=resp.status, body=(resp.body or "").encode())
        for k, v in (resp.headers or {}).items():
            if k.lower() in ("content-length", "connection", "transfer-encoding"):
                continue
            for one in v if isinstance(v, list | tuple) else [v]:
                out.headers.add(k, one)
        out.headers.setdefault("Content-Type", "application/json")
        return out

    return on_slack_request


def add_slack(server: WebServer, bot) -> WebServer:  # noqa: ANN001 - bot.slack.app.SlackBot
    """Serve `bot`'s Bolt app at `/slack/events` on `server` (before it starts)."""
    server.add_post(EVENTS_PATH, slack_route(bot.app, bot.signing_secret))
    return server
