"""Changing a staff member's record: one validator shared by `crm-bot staff edit`, `/staff edit` and `/me`.

`parse_pairs` reads `field=value …` (English or Chinese keys); `validate` turns raw text into column values or
raises `InvalidInput` with a catalog key (the CLI prints it in English, chat in the user's language);
`apply` writes the changed columns with one audit row per changed field. Who may change what:
`check_rights` (admins anything, managers team-level fields of their team, `/me` only personal settings).
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlmodel import Session

from handlers import inputs
from handlers.context import Ctx
from handlers.errors import Forbidden, InvalidInput
from handlers.i18n import ENUMS
from handlers.permissions import is_manager_of
from handlers.services import audit
from storage.models import Staff
from storage.repos import staff as staff_repo

FIELDS = ("name", "role", "team", "manager", "slack_id", "telegram_id", "email", "tz", "lang", "notify",
          "reminder_time")
SELF_FIELDS = ("tz", "lang", "notify", "reminder_time")
MANAGER_FIELDS = ("role", "team", "manager") + SELF_FIELDS
MANAGER_ROLES = ("rep", "agent")
ALIASES = {"slack": "slack_id", "slack-id": "slack_id", "telegram": "telegram_id", "telegram-id": "telegram_id",
           "reminder": "reminder_time", "邮箱": "email", "e-mail": "email", "reminder-time": "reminder_time", "姓名": "name", "名字": "name",
           "角色": "role", "团队": "team", "经理": "manager", "上级": "manager", "时区": "tz", "语言": "lang",
           "通知": "notify", "提醒": "reminder_time", "提醒时间": "reminder_time"}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_HHMM = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def field_of(key: str) -> str:
    """The column a user's key names, or `InvalidInput`."""
    k = key.strip().lower()
    k = ALIASES.get(k, k)
    if k not in FIELDS:
        raise InvalidInput("staffedit.err.field", field=key.strip(), fields=", ".join(FIELDS))
    return k


def parse_pairs(text: str) -> dict[str, str]:
    """`tz=Asia/Shanghai 提醒=08:30` → {"tz": "Asia/Shanghai", "reminder_time": "08:30"} (＝ works too)."""
    out: dict[str, str] = {}
    for word in inputs.clean(text or "").replace("＝", "=").split():
        key, eq, value = word.partition("=")
        if not eq or not key:
            raise InvalidInput("staffedit.err.pair", word=word)
        out[field_of(key)] = value.strip()
    if not out:
        raise InvalidInput("staffedit.err.pair", word=text.strip())
    return out


def _taken(session: Session, target: Staff, column: object, value: object) -> bool:
    other = session.scalar(select(Staff.id).where(column == value, Staff.id != target.id))
    return other is not None


def _one(session: Session, target: Staff, field: str, raw: str) -> object:  # noqa: C901, PLR0911, PLR0912
    v = raw.strip()
    if field == "name":
        if not v or len(v) > 100:
            raise InvalidInput("staffedit.err.name")
        if _taken(session, target, Staff.name, v):
            raise InvalidInput("staffedit.err.taken", field=field, value=v)
        return v
    if field == "role":
        if v not in ENUMS["role"]:
            raise InvalidInput("staffedit.err.choice", field=field, value=v, choices=", ".join(ENUMS["role"]))
        return v
    if field == "team":
        return v or None
    if field == "manager":
        if not v or v in ("-", "none"):
            return None
        m = staff_repo.get_by_name(session, name=v)
        if m is None or m.id == target.id:
            raise InvalidInput("staffedit.err.manager", value=v)
        return m.id
    if field == "slack_id":
        if v and not re.fullmatch(r"[UW][A-Z0-9]{2,30}", v):
            raise InvalidInput("staffedit.err.slack_id", value=v)
        if v and _taken(session, target, Staff.slack_id, v):
            raise InvalidInput("staffedit.err.taken", field=field, value=v)
        return v or None
    if field == "telegram_id":
        if not v:
            return None
        if not v.isdigit() or not 0 < int(v) < 2**63:
            raise InvalidInput("staffedit.err.telegram_id", value=v)
        if _taken(session, target, Staff.telegram_id, int(v)):
            raise InvalidInput("staffedit.err.taken", field=field, value=v)
        return int(v)
    if field == "email":
        if v and not _EMAIL.fullmatch(v):
            raise InvalidInput("staffedit.err.email", value=v)
        if v and _taken(session, target, Staff.email, v.lower()):
            raise InvalidInput("staffedit.err.taken", field=field, value=v)
        return v.lower() or None
    if field == "tz":
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput("staffedit.err.tz", value=v) from None
        return v
    if field == "reminder_time":
        m = _HHMM.fullmatch(v)
        if m is None:
            raise InvalidInput("staffedit.err.reminder", value=v)
        return f"{int(m.group(1)):02d}:{m.group(2)}"
    choices = ENUMS["lang"] if field == "lang" else ENUMS["platform"]
    if v not in choices:
        raise InvalidInput("staffedit.err.choice", field=field, value=v, choices=", ".join(choices))
    return v


def validate(session: Session, target: Staff, changes: dict[str, str]) -> dict[str, object]:
    """Column values for `changes` (raw text by field), or the first problem as `InvalidInput`."""
    values = {field: _one(session, target, field, raw) for field, raw in changes.items()}
    notify = values.get("notify", target.notify)
    slack = values.get("slack_id", target.slack_id)
    telegram = values.get("telegram_id", target.telegram_id)
    if (notify == "slack" and not slack) or (notify == "telegram" and not telegram):
        raise InvalidInput("staffedit.err.notify_unlinked", platform=notify)
    return values


def check_rights(ctx: Ctx, target: Staff, values: dict[str, object], *, self_service: bool = False) -> None:
    """Admins change anything; managers team-level fields of their team's reps and agents, within the team."""
    if self_service:
        bad = [f for f in values if f not in SELF_FIELDS]
        if bad:
            raise Forbidden("staffedit.err.self_fields", fields=", ".join(SELF_FIELDS))
        return
    if ctx.role == "admin":
        return
    if ctx.role != "manager" or target.role not in MANAGER_ROLES or not is_manager_of(ctx, target.id):
        raise Forbidden("staffcmd.err.not_yours", name=target.name)
    bad = [f for f in values if f not in MANAGER_FIELDS]
    if bad:
        raise Forbidden("staffedit.err.manager_fields", fields=", ".join(MANAGER_FIELDS))
    if values.get("role", target.role) not in MANAGER_ROLES:
        raise Forbidden("staffedit.err.manager_role", roles=", ".join(MANAGER_ROLES))
    if "team" in values and values["team"] != ctx.staff.team:
        raise Forbidden("staffedit.err.manager_team", team=ctx.staff.team or "—")
    if values.get("manager") is not None and not is_manager_of(ctx, values["manager"]):
        raise Forbidden("staffedit.err.manager_team", team=ctx.staff.team or "—")


def apply(session: Session, *, actor_id: int | None, target: Staff, values: dict[str, object],
          now: datetime) -> list[str]:
    """Write the columns that differ, one audit row each; the names of the changed fields."""
    changed = []
    for field, new in values.items():
        column = "manager_id" if field == "manager" else field
        old = getattr(target, column)
        if old == new:
            continue
        setattr(target, column, new)
        if field == "manager":
            old, new = staff_repo.name_of(session, old), staff_repo.name_of(session, new)
        audit.record(session, actor_id=actor_id, action="update", entity="staff", entity_id=target.id,
                     entity_code=target.name, field=field, old=old, new=new, now=now)
        changed.append(field)
    session.flush()
    return changed


def edit(ctx: Ctx, target: Staff, text: str, *, self_service: bool = False) -> list[str]:
    """`/staff edit NAME field=value …` and `/me field=value …`: parse, validate, check rights, apply."""
    values = validate(ctx.session, target, parse_pairs(text))
    check_rights(ctx, target, values, self_service=self_service)
    return apply(ctx.session, actor_id=ctx.staff.id, target=target, values=values, now=ctx.now)
