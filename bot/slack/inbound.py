"""Slack payloads → `Inbound`. Slack escapes `&`, `<`, `>` in command and message text: we decode them so the
core stores what the user typed (renderers escape again on the way out).

Token scopes: `c:<channel>` for the channel or DM a button was sent to, and `u:<user>` for the user's own
surfaces (DMs the bot opened by user id, the App Home).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping

from bot.slack.limits import unescape
from bot.slack.surfaces import form_values, read_metadata
from handlers import commands
from handlers.context import Attachment, Inbound

PLATFORM = "slack"


def scopes(channel: str | None, user: str) -> tuple[str, ...]:
    return tuple(s for s in (f"c:{channel}" if channel else "", f"u:{user}") if s)


def command_text(command: str, text: str) -> str:
    """`/crm-customer` (a renamed command) and `/customer` both mean `/customer`."""
    verb = command.lstrip("/")
    verb = re.sub(r"^crm[-_]", "", verb) or verb
    return f"/{verb} {unescape(text or '')}".strip()


def _header(headers: Mapping, name: str) -> str:
    v = headers.get(name) or ""
    return str(v[0] if isinstance(v, list | tuple) and v else v or "")


def request_key(kind: str, body: dict, headers: Mapping) -> str | None:
    """What makes one slash command, button press or shortcut one request, for "once per request": Slack's
    trigger_id (new for every invocation, the same when a request is replayed or retried), else a hash of the
    request's timestamp and signature (a replay within Slack's 5-minute window carries both unchanged)."""
    if body.get("trigger_id"):
        return f"{kind}:{body['trigger_id']}"[:120]
    ts, sig = _header(headers, "x-slack-request-timestamp"), _header(headers, "x-slack-signature")
    if ts and sig:
        return f"{kind}:" + hashlib.sha256(f"{ts}:{sig}".encode()).hexdigest()[:48]
    return None


def from_command(body: dict, key: str | None = None) -> Inbound:
    user, channel = body.get("user_id", ""), body.get("channel_id", "")
    return Inbound(platform=PLATFORM, user_ref=user, chat_ref=channel or user,
                   text=command_text(body.get("command", ""), body.get("text", "")), surface="form",
                   display_name=body.get("user_name"), is_group=not channel.startswith("D"),
                   scopes=scopes(channel, user), update_key=key)


def action_value(action: dict) -> str:
    if action.get("type") == "static_select" or "selected_option" in action:
        return (action.get("selected_option") or {}).get("value", "")
    return action.get("value", "")


def channel_of(body: dict) -> str | None:
    return ((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
            or read_metadata((body.get("view") or {}).get("private_metadata", "")).get("c") or None)


def from_action(body: dict, action: dict, key: str | None = None) -> Inbound:
    user = (body.get("user") or {}).get("id", "")
    channel = channel_of(body)
    return Inbound(platform=PLATFORM, user_ref=user, chat_ref=channel or user, token=action_value(action),
                   surface="form", is_group=bool(channel) and not channel.startswith("D"),
                   scopes=scopes(channel, user), update_key=key)


def from_submission(body: dict) -> Inbound:
    view = body.get("view") or {}
    meta = read_metadata(view.get("private_metadata", ""))
    user = (body.get("user") or {}).get("id", "")
    channel = meta.get("c") or user
    return Inbound(platform=PLATFORM, user_ref=user, chat_ref=channel, dialog=meta.get("d") or "",
                   form=form_values((view.get("state") or {}).get("values") or {}), surface="form",
                   is_group=not channel.startswith(("D", "U")), scopes=scopes(channel, user),
                   update_key=f"view:{view.get('id')}:{view.get('hash', '')}"[:120] if view.get("id") else None)


def from_message(event: dict, event_id: str | None) -> Inbound:
    user, channel = event.get("user", ""), event.get("channel", "")
    return Inbound(platform=PLATFORM, user_ref=user, chat_ref=channel, text=unescape(event.get("text") or ""),
                   surface="chat", is_group=event.get("channel_type") not in ("im", None),
                   scopes=scopes(channel, user), update_key=f"ev:{event_id}" if event_id else None)


def from_file(event: dict, event_id: str | None, name: str, size: int, path: str) -> Inbound:
    """A message that shared a file (the first one): its text is the caption (`import owner:NAME`)."""
    return dataclasses.replace(from_message(event, event_id), attachment=Attachment(name=name, size=size, path=path))


def home_inbound(user: str, text: str) -> Inbound:
    """A command run for the App Home: its own chat (the user id), so it never touches a DM dialog."""
    return Inbound(platform=PLATFORM, user_ref=user, chat_ref=user, text=text, surface="form",
                   scopes=(f"u:{user}",))


def open_to_strangers(inbound: Inbound) -> bool:
    """Typed verbs anyone may use (e.g. a customer's `/start INVITE`) still reach the core."""
    text = (inbound.text or "").strip()
    if not text.startswith("/"):
        return False
    cmd = commands.lookup(text[1:].split(" ", 1)[0])
    return cmd is not None and cmd.audience == "anyone"

