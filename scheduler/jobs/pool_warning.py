"""`pool_warning`: `CRM_POOL_WARN_DAYS` (3) days before the pool takes a customer back, its owner is told once.

Runs every 15 minutes; a customer is warned once per quiet spell (outbox key `pool_warn:<customer>:<owner>:<start
of the spell>`: a logged follow-up or a handover starts a new one), after the owner's local reminder time so the
warning arrives in their working day. The message has Log and Keep buttons (`handlers.services.pool.keep`).
"""

from __future__ import annotations

from datetime import datetime, time

from sqlmodel import Session

from handlers.services import pool
from handlers.settings import DomainSettings
from scheduler.jobs import each, log, zone
from storage.repos import reminders as reminder_repo


def _morning(w: pool.PoolWarning, now: datetime, settings: DomainSettings) -> bool:
    local_now = now.astimezone(zone(w.owner.tz, settings.default_tz))
    try:
        hh, mm = (w.owner.reminder_time or settings.reminder_time).split(":")
        return local_now.time() >= time(int(hh), int(mm))
    except ValueError:
        log.warning("staff %s has a bad reminder time %r", w.owner.id, w.owner.reminder_time)
        return False


def run(session: Session, *, now: datetime, settings: DomainSettings, channels: dict[str, str]) -> int:
    due = [w for w in pool.warnings_due(session, now=now, settings=settings) if _morning(w, now, settings)]
    done = reminder_repo.outbox_keys(session, [w.key for w in due])
    return each(session, [w for w in due if w.key not in done],
                lambda w: pool.warn(session, w, now=now, settings=settings), job="pool_warning")
