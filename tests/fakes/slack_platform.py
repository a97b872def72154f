"""Slack's side of HTTP mode: signed requests to the app's `/slack/events`, shaped like Slack's payloads."""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
from urllib.parse import quote, urlencode

from tests.fakes.slack_api import Call, FakeSlack, Resp, find_by_cmd, find_element, sign


class SlackPlatform:
    def __init__(self, endpoint: str, secret: str, fake: FakeSlack) -> None:
        self.endpoint = endpoint
        self.secret = secret
        self.fake = fake
        self._n = itertools.count(1)
        self.sent: list[tuple[str, str, str]] = []  # (raw body, content type, timestamp) of each request

    # ------------------------------------------------------------ transport
    def post(self, raw: str, *, content_type: str = "application/x-www-form-urlencoded",
             headers: dict | None = None, timestamp: int | None = None, secret: str | None = None) -> Resp:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        self.sent.append((raw, content_type, ts))
        h = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
             "X-Slack-Signature": sign(secret or self.secret, ts, raw), **(headers or {})}
        req = urllib.request.Request(self.endpoint, data=raw.encode(), headers=h, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=15) as r:
                return Resp(r.status, r.read().decode())
        except urllib.error.HTTPError as e:
            return Resp(e.code, e.read().decode())

    def replay(self, index: int = -1, *, headers: dict | None = None) -> Resp:
        """Send an earlier request again, byte for byte with its timestamp and signature (valid for 5 minutes):
        a replay by whoever captured it, or Slack retrying (`headers={"X-Slack-Retry-Num": "1"}`)."""
        raw, content_type, ts = self.sent[index]
        return self.post(raw, content_type=content_type, headers=headers, timestamp=int(ts))

    def interactive(self, payload: dict, **kw: object) -> Resp:
        return self.post("payload=" + quote(json.dumps(payload)), **kw)  # type: ignore[arg-type]

    def trigger(self) -> str:
        return f"{next(self._n)}.trigger"

    # ------------------------------------------------------------ payloads
    def command(self, command: str, text: str = "", *, user: str = "U1", channel: str = "C1",
                user_name: str = "someone", **kw: object) -> Resp:
        form = {"token": "legacy", "team_id": "T1", "team_domain": "fake", "channel_id": channel,
                "channel_name": "general", "user_id": user, "user_name": user_name, "command": command,
                "text": text, "api_app_id": "A1", "is_enterprise_install": "false",
                "response_url": self.fake.response_url(), "trigger_id": self.trigger()}
        return self.post(urlencode(form), **kw)  # type: ignore[arg-type]

    def action(self, element: dict, *, user: str = "U1", channel: str | None = "C1", message: Call | None = None,
               view: dict | None = None, action_ts: str | None = None, ephemeral: bool | None = None) -> Resp:
        """A block_actions payload for `element` (see `find_element`) pressed in `message` or `view`."""
        act = dict(element, action_ts=action_ts or f"{time.time():.6f}")
        payload: dict = {"type": "block_actions", "user": {"id": user, "username": user, "team_id": "T1"},
                         "api_app_id": "A1", "token": "legacy", "trigger_id": self.trigger(),
                         "team": {"id": "T1", "domain": "fake"}, "actions": [act],
                         "response_url": self.fake.response_url()}
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id")}
            payload["view"] = view
        else:
            ts = (message.result.get("ts") if message else None) or "1700000000.999999"
            is_eph = ephemeral if ephemeral is not None else (message is None or message.method == "response_url")
            payload["container"] = {"type": "message", "message_ts": ts, "channel_id": channel,
                                    "is_ephemeral": is_eph}
            payload["message"] = {"ts": ts, "blocks": message.blocks if message else []}
        if channel:
            payload["channel"] = {"id": channel, "name": "general"}
        return self.interactive(payload)

    def press(self, where: Call | dict, label: str, **kw: object) -> Resp:
        """Press the button (or pick the option) labelled `label` in a recorded message or view call."""
        blocks = where.blocks if isinstance(where, Call) else where.get("blocks") or []
        return self._press(where, find_element(blocks, label), **kw)

    def press_cmd(self, where: Call | dict, prefix: str, **kw: object) -> Resp:
        """Press the button (or pick the option) whose command starts with `prefix` (`/ticket assign FW`)."""
        blocks = where.blocks if isinstance(where, Call) else where.get("blocks") or []
        return self._press(where, find_by_cmd(blocks, prefix), **kw)

    def _press(self, where: Call | dict, element: dict, **kw: object) -> Resp:
        if isinstance(where, Call) and where.method in ("views.open", "views.update", "views.push",
                                                        "views.publish"):
            kw.setdefault("view", where.result.get("view"))
            if where.method == "views.publish":
                kw.setdefault("channel", None)
            return self.action(element, **kw)  # type: ignore[arg-type]
        if isinstance(where, Call):
            if where.method == "chat.postMessage":
                kw.setdefault("channel", where.result.get("channel"))
            return self.action(element, message=where, **kw)  # type: ignore[arg-type]
        return self.action(element, **kw)  # type: ignore[arg-type]

    def submit(self, view_call: Call | dict, values: dict[str, str], *, user: str = "U1") -> Resp:
        """Submit the modal opened by `view_call` (or a view dict, e.g. one an ack updated: give it the `id`
        and a new `hash`) with typed values (selects: the option's value)."""
        if isinstance(view_call, Call):
            view = dict(view_call.result.get("view") or view_call.args.get("view") or {})
        else:
            view = dict(view_call)
        state: dict = {}
        for b in view.get("blocks") or []:
            if b.get("type") != "input":
                continue
            el = b["element"]
            v = values.get(b["block_id"], el.get("initial_value", ""))
            if el["type"] == "static_select":
                opt = next((o for o in el["options"] if o["value"] == v), None) or el.get("initial_option")
                state[b["block_id"]] = {el["action_id"]: {"type": "static_select", "selected_option": opt}}
            else:
                state[b["block_id"]] = {el["action_id"]: {"type": "plain_text_input", "value": v or None}}
        view["state"] = {"values": state}
        payload = {"type": "view_submission", "team": {"id": "T1"}, "user": {"id": user, "team_id": "T1"},
                   "api_app_id": "A1", "token": "legacy", "trigger_id": self.trigger(), "view": view}
        return self.interactive(payload)

    def shortcut(self, callback_id: str, text: str, *, user: str = "U1", channel: str = "C1") -> Resp:
        payload = {"type": "message_action", "callback_id": callback_id, "trigger_id": self.trigger(),
                   "user": {"id": user}, "team": {"id": "T1"}, "channel": {"id": channel, "name": "general"},
                   "message": {"type": "message", "user": "U9", "ts": "1700000000.000100", "text": text},
                   "response_url": self.fake.response_url(), "token": "legacy"}
        return self.interactive(payload)

    def event(self, event: dict, *, event_id: str | None = None, retry_num: int | None = None) -> Resp:
        body = {"token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                "event_id": event_id or f"Ev{next(self._n):06d}", "event_time": int(time.time()), "event": event}
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} if retry_num else {}
        return self.post(json.dumps(body), content_type="application/json", headers=headers)

    def share_file(self, file: dict, text: str = "", *, user: str = "U1", channel: str = "D1",
                   channel_type: str = "im", **kw: object) -> Resp:
        """A message sharing `file` (see `FakeSlack.add_file`), as Slack delivers a DM upload: subtype
        file_share, the file object (partial, as in events) in `files`."""
        partial = {k: file[k] for k in ("id", "name", "title", "mimetype", "filetype", "size", "mode")}
        return self.event({"type": "message", "subtype": "file_share", "channel_type": channel_type, "user": user,
                           "channel": channel, "text": text, "files": [partial], "upload": True,
                           "ts": f"{time.time():.6f}"}, **kw)  # type: ignore[arg-type]

    def dm(self, text: str, *, user: str = "U1", channel: str = "D1", **kw: object) -> Resp:
        return self.event({"type": "message", "channel_type": "im", "user": user, "channel": channel,
                           "text": text, "ts": f"{time.time():.6f}"}, **kw)  # type: ignore[arg-type]
