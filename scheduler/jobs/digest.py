"""`followup_digest` and `cadence`: each rep's morning message at their own local reminder time.

The job runs every minute. A rep is due when their local reminder time (`Staff.reminder_time`, default the
`CRM_REMINDER_TIME` setting) has passed today in their time zone and no outbox row `digest:<staff id>:<local
date>` exists. So a bot that was down at 09:00 sends the day's digests when it comes back, once. A day with
nothing due is recorded as a `skipped` row under the same key: nothing is sent, and a follow-up added later
that day does not produce a late digest.

One message per rep (`handlers.cards.reminders.digest`): overdue follow-ups, today's, then customers behind their
grade's cadence (the `cadence` list is folded in here; it never sends a message of its own).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlmodel import Session

from handlers import notify
from handlers.cards.reminders import MAX_ITEMS as MAX_ITEMS  # re-export: tests
from handlers.cards.reminders import Due, digest
from handlers.settings import DomainSettings
from handlers.views import Reply, to_json
from scheduler.jobs import each, log, zone
from storage import outbox
from storage.models import Customer, Staff
from storage.repos import followups as followup_repo
from storage.repos import reminders as repo


def digest_key(staff: Staff, local_date: object) -> str:
    return f"digest:{staff.id}:{local_date}"


def reminder_passed(staff: Staff, now: datetime, settings: DomainSettings) -> tuple[bool, datetime]:
    """(has the staff member's reminder time passed today, their local now)."""
    tz = zone(staff.tz, settings.default_tz)
    local_now = now.astimezone(tz)
    hh, mm = (staff.reminder_time or settings.reminder_time).split(":")
    return local_now.time() >= time(int(hh), int(mm)), local_now


# ---------------------------------------------------------------- what is due


def behind_cadence(session: Session, settings: DomainSettings, *, now: datetime,
                   owner_id: int | None = None) -> list[Customer]:
    """Customers whose last contact is older than their grade's cadence and with nothing planned ahead."""
    out = []
    oldest_cadence = min(settings.cadence_a_days, settings.cadence_b_days, settings.cadence_c_days)
    for c in repo.quiet_customers(session, now=now, older_than=timedelta(days=oldest_cadence), owner_id=owner_id):
        last = c.last_followup_at or c.created_at
        if last < now - timedelta(days=settings.cadence_days(c.grade)):
            out.append(c)
    return out


def due_for(session: Session, staff: Staff, settings: DomainSettings, *, now: datetime,
            local_now: datetime) -> Due:
    midnight = datetime.combine(local_now.date(), time(0), local_now.tzinfo)
    items = followup_repo.list_due(session, owner_ids={staff.id}, before=midnight + timedelta(days=1))
    overdue = [(f, c) for f, c in items if f.next_followup_at < midnight]
    today = [(f, c) for f, c in items if f.next_followup_at >= midnight]
    listed = {c.id for _, c in items}
    behind = [c for c in behind_cadence(session, settings, now=now, owner_id=staff.id) if c.id not in listed]
    return Due(overdue, today, behind)


# ---------------------------------------------------------------- the jobs


def _digest_one(session: Session, staff: Staff, settings: DomainSettings, now: datetime, local_now: datetime) -> bool:
    key = digest_key(staff, local_now.date())
    due = due_for(session, staff, settings, now=now, local_now=local_now)
    if not len(due):  # decided for today: nothing to send, and no late digest if something comes up later
        platform, chat_ref, scope = notify.staff_address(staff)
        outbox.add(session, key=key, platform=platform, chat_ref=chat_ref, scope=scope,
                   payload=to_json(Reply()), now=now, staff_id=staff.id, status="skipped")
        return False
    return notify.to_staff(session, staff, key=key, now=now,
                           reply=digest(staff, due, settings, now=now, local_now=local_now))


def pending_staff(session: Session, settings: DomainSettings, now: datetime) -> list[tuple[Staff, datetime]]:
    """Active staff whose reminder time has passed today and who have no digest row for today yet."""
    out = []
    for st in repo.active_staff(session):
        try:
            passed, local_now = reminder_passed(st, now, settings)
        except ValueError:  # a malformed reminder time must not stop everyone else's digest
            log.warning("staff %s has a bad reminder time %r", st.id, st.reminder_time)
            continue
        if passed:
            out.append((st, local_now))
    keys = [digest_key(st, ln.date()) for st, ln in out]
    done = repo.outbox_keys(session, keys)
    return [(st, ln) for st, ln in out if digest_key(st, ln.date()) not in done]


def run_digest(session: Session, *, now: datetime, settings: DomainSettings, channels: dict[str, str]) -> int:
    """Write today's digest for every active staff member whose local reminder time has passed."""
    return each(session, pending_staff(session, settings, now),
                lambda item: _digest_one(session, item[0], settings, now, item[1]), job="followup_digest")


def run_cadence(session: Session, *, now: datetime, settings: DomainSettings, channels: dict[str, str]) -> int:
    """How many customers are behind their grade's cadence. Sends nothing: they are listed in the digest."""
    return len(behind_cadence(session, settings, now=now))
