"""One-time invites that bind a Telegram account to a staff record (`/staff invite NAME`, `crm-bot staff invite`).

Same tokens as customer invites (`invites.new_token`: only the SHA-256 is kept, `settings.invite_ttl`). A staff
invite is a row of the setting table, key `staff_invite:<hash>`, value JSON {staff_id, by, expires_at, used_at}:
no table of its own. Redeeming it is a compare-and-set UPDATE of that row, so of two people opening one link at
once exactly one is bound.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session

from handlers.context import Ctx
from handlers.errors import Forbidden, InvalidInput
from handlers.services import invites
from handlers.services.staff import may_manage
from storage.models import Setting, Staff
from storage.repos import staff as staff_repo


@dataclass(frozen=True)
class StaffInvite:
    staff: Staff
    token: str
    expires_at: datetime


def issue_token(session: Session, staff: Staff, *, now: datetime, ttl: timedelta,
                by_id: int | None) -> StaffInvite:
    """A new invite for `staff` (the CLI calls this directly: whoever runs it is the operator)."""
    if not staff.active:
        raise InvalidInput("staffinv.err.inactive", name=staff.name)
    token, digest = invites.new_token()
    expires = now + ttl
    value = json.dumps({"staff_id": staff.id, "by": by_id, "expires_at": expires.isoformat(), "used_at": None})
    session.add(Setting(key=staff_repo.STAFF_INVITE + digest, value=value, updated_at=now))
    session.flush()
    return StaffInvite(staff=staff, token=token, expires_at=expires)


def issue(ctx: Ctx, staff: Staff) -> StaffInvite:
    """Admins invite anyone, managers their team (`may_manage`)."""
    if ctx.staff is None or not may_manage(ctx, staff):
        raise Forbidden("staffcmd.err.not_yours", name=staff.name)
    return issue_token(ctx.session, staff, now=ctx.now, ttl=ctx.settings.invite_ttl, by_id=ctx.staff.id)


def redeem(ctx: Ctx, token: str) -> tuple[str, Staff | None] | None:
    """`/start TOKEN` from someone the bot does not know: None when TOKEN is no staff invite (it may be a
    customer's); else the outcome — `bound` (with the staff record), `used`, `expired`, `taken`, `invalid`."""
    digest = invites.hash_of_wellformed(token)
    row = staff_repo.staff_invite(ctx.session, digest) if digest else None
    if row is None:
        return None
    data = json.loads(row.value)
    if data["used_at"] is not None:
        return "used", None
    if datetime.fromisoformat(data["expires_at"]) <= ctx.now:
        return "expired", None
    staff = staff_repo.get(ctx.session, data["staff_id"])
    if ctx.platform != "telegram" or not re.fullmatch(r"\d{1,18}", ctx.user_ref) or staff is None \
            or not staff.active:
        return "invalid", None
    if staff_repo.by_telegram_id(ctx.session, int(ctx.user_ref)) is not None:
        return "taken", None
    used = json.dumps({**data, "used_at": ctx.now.isoformat()})
    res = ctx.session.execute(update(Setting).where(Setting.key == row.key, Setting.value == row.value)
                              .values(value=used, updated_at=ctx.now).execution_options(synchronize_session=False))
    if res.rowcount != 1:
        return "used", None
    staff.telegram_id = int(ctx.user_ref)
    if staff.notify == "console":  # nowhere to reach them before; now there is
        staff.notify = "telegram"
    ctx.session.flush()
    return "bound", staff
