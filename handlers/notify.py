"""Outbound notifications: every message the bot sends on its own is first an outbox row.

Callers build the `Reply` in the recipient's language and call one of `to_staff`, `to_service_channel`,
`to_chat` or `edit`, with an idempotency key. Rows are written in the caller's unit of work; the sender in
bot/ delivers them through the platform adapter. A key that exists already is a no-op (sends once).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from sqlmodel import Session

from handlers import actions, paging
from handlers.views import (
    Action,
    Button,
    Buttons,
    Confirm,
    ListPage,
    Reply,
    Select,
    to_json,
    walk_actions,
)
from storage import outbox
from storage.models import ActionRef, ChatBinding, Staff

ACTION_REF_TTL = timedelta(days=30)


def staff_address(staff: Staff) -> tuple[str, str, str]:
    """(platform, chat_ref, scope) where a staff member gets direct messages."""
    if staff.notify == "slack" and staff.slack_id:
        return "slack", staff.slack_id, f"u:{staff.slack_id}"
    if staff.notify == "telegram" and staff.telegram_id:
        return "telegram", str(staff.telegram_id), f"c:{staff.telegram_id}"
    if staff.slack_id:
        return "slack", staff.slack_id, f"u:{staff.slack_id}"
    if staff.telegram_id:
        return "telegram", str(staff.telegram_id), f"c:{staff.telegram_id}"
    return "console", f"@{staff.name}", f"u:@{staff.name}"


def chat_scope(platform: str, chat_ref: str) -> str:
    return f"c:{chat_ref}"


# ---------------------------------------------------------------- long actions → server-side refs


def keep(session: Session, *, scope: str, payload: str, now: datetime) -> int:
    """Store `payload` (a long button command, blocks behind a "more" button) for `scope`; its ActionRef id."""
    ref = ActionRef(scope=scope, cmd=payload, expires_at=now + ACTION_REF_TTL)
    session.add(ref)
    session.flush()
    return ref.id


def _bind(session: Session, a: Action, scope: str, now: datetime) -> Action:
    if actions.fits(a.cmd):
        return a
    return Action(f"#{keep(session, scope=scope, payload=a.cmd, now=now)}")


def bind_actions(session: Session, r: Reply, *, scope: str, now: datetime) -> Reply:
    """Replace actions that do not fit a token by `#<id>` references stored for `scope`."""

    def btn(b: Button) -> Button:
        a = _bind(session, b.action, scope, now)
        return b if a is b.action else dataclasses.replace(b, action=a)  # most fit as they are: no copy

    views = []
    for v in r.views:
        if isinstance(v, Buttons):
            v = Buttons(tuple(btn(b) for b in v.buttons))
        elif isinstance(v, Select):
            v = dataclasses.replace(v, options=tuple(
                dataclasses.replace(o, action=_bind(session, o.action, scope, now)) for o in v.options))
        elif isinstance(v, ListPage):
            v = dataclasses.replace(
                v,
                items=tuple(dataclasses.replace(i, buttons=tuple(btn(b) for b in i.buttons)) for i in v.items),
                prev=_bind(session, v.prev, scope, now) if v.prev else None,
                next=_bind(session, v.next, scope, now) if v.next else None)
        elif isinstance(v, Confirm):
            v = dataclasses.replace(v, yes=btn(v.yes), no=btn(v.no))
        views.append(v)
    return dataclasses.replace(r, views=tuple(views))


def resolve_ref(session: Session, cmd: str, *, scopes: tuple[str, ...], now: datetime) -> str | None:
    """The stored command behind `#<id>` if it was made for one of `scopes` and has not expired."""
    try:
        ref = session.get(ActionRef, int(cmd[1:]))
    except ValueError:
        return None
    if ref is None or ref.scope not in scopes or ref.expires_at < now:
        return None
    return ref.cmd


# ---------------------------------------------------------------- writing rows


def _add(session: Session, *, key: str, platform: str, chat_ref: str, scope: str, reply: Reply,
         now: datetime, staff_id: int | None = None, edit_key: str | None = None) -> bool:
    reply = bind_actions(session, reply, scope=scope, now=now)
    added = outbox.add(session, key=key, platform=platform, chat_ref=chat_ref, scope=scope,
                       payload=to_json(reply), now=now, staff_id=staff_id, edit_key=edit_key)
    if added:
        mark_added(session)
    return added


def to_staff(session: Session, staff: Staff, *, key: str, reply: Reply, now: datetime) -> bool:
    platform, chat_ref, scope = staff_address(staff)
    return _add(session, key=key, platform=platform, chat_ref=chat_ref, scope=scope,
                reply=paging.labelled(reply, staff.lang), now=now, staff_id=staff.id)


def staff_row(staff: Staff, *, key: str, reply: Reply, now: datetime) -> dict | None:
    """What `to_staff` would write, as outbox row values for `outbox.add_many` (no session: built outside any
    transaction); None when an action does not fit a token and must be stored first (use `to_staff`)."""
    if not all(actions.fits(a.cmd) for a in walk_actions(reply)):
        return None
    platform, chat_ref, scope = staff_address(staff)
    return outbox.row(key=key, platform=platform, chat_ref=chat_ref, scope=scope,
                      payload=to_json(paging.labelled(reply, staff.lang)), now=now, staff_id=staff.id)


def mark_added(session: Session) -> None:
    """Note that outbox rows were written (the runner wakes the sender)."""
    session.info["outbox_added"] = True


def to_chat(session: Session, *, platform: str, chat_ref: str, key: str, reply: Reply, now: datetime,
            edit_key: str | None = None) -> bool:
    return _add(session, key=key, platform=platform, chat_ref=chat_ref, scope=chat_scope(platform, chat_ref),
                reply=reply, now=now, edit_key=edit_key)


def to_binding(session: Session, binding: ChatBinding, *, key: str, reply: Reply, now: datetime) -> bool:
    return to_chat(session, platform=binding.platform, chat_ref=binding.chat_ref, key=key,
                   reply=paging.labelled(reply, binding.lang), now=now)


def to_service_channel(session: Session, channels: dict[str, str], *, key: str, reply: Reply,
                       now: datetime) -> list[str]:
    """Post to the supervisor channel on every configured platform. Returns the row keys written.

    Each platform's row key is `<key>@<platform>`; edit that message later with `edit(...)` on that key.
    """
    keys = []
    for platform, chat_ref in channels.items():
        k = f"{key}@{platform}"
        if to_chat(session, platform=platform, chat_ref=chat_ref, key=k, reply=reply, now=now):
            keys.append(k)
    return keys


def edit_service_post(session: Session, channels: dict[str, str], *, key: str, version: str, reply: Reply,
                      now: datetime) -> None:
    """Edit the channel posts written under `key` (see `to_service_channel`) in place."""
    for platform, chat_ref in channels.items():
        to_chat(session, platform=platform, chat_ref=chat_ref, key=f"{key}@{platform}#{version}",
                reply=reply, now=now, edit_key=f"{key}@{platform}")
