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
from storage.models import Staff
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


def last_before(settings: DomainSettings, now: datetime) -> dict[str, datetime]:
    """Per grade, the last contact before which a customer is behind its cadence."""
    return {g: now - timedelta(days=settings.cadence_days(g)) for g in "ABC"}


def _midnight(local_now: datetime) -> datetime:
    return datetime.combine(local_now.date(), time(0), local_now.tzinfo)


def due_for_all(session: Session, reps: list[tuple[Staff, datetime]], settings: DomainSettings, *,
                now: datetime) -> dict[int, Due]:
    """Each rep's `Due` holding what the digest shows (at most MAX_ITEMS of each list) and the counts: two grouped
    statements per local day boundary (reps on the same day in the same offset share them), not a few per rep."""
    groups: dict[datetime, list[Staff]] = {}
    for st, local_now in reps:
        groups.setdefault(_midnight(local_now), []).append(st)
    out: dict[int, Due] = {}
    for midnight, staff in groups.items():
        ids = {st.id for st in staff}
        day_end = midnight + timedelta(days=1)
        due = followup_repo.due_by_assignee(session, owner_ids=ids, before=day_end, split=midnight, first=MAX_ITEMS)
        behind = repo.behind_cadence(session, owner_ids=ids, now=now, last_before=last_before(settings, now),
                                     listed_before=day_end, first=MAX_ITEMS)
        for st in staff:
            items, n_due, n_overdue = due.get(st.id, ([], 0, 0))
            customers, n_behind = behind.get(st.id, ([], 0))
            out[st.id] = Due(overdue=[(f, c) for f, c in items if f.next_followup_at < midnight],
                             today=[(f, c) for f, c in items if f.next_followup_at >= midnight],
                             behind=customers, counts=(n_overdue, n_due - n_overdue, n_behind))
    return out


# ---------------------------------------------------------------- the jobs


def _digest_one(session: Session, staff: Staff, due: Due, settings: DomainSettings, now: datetime,
                local_now: datetime) -> bool:
    key = digest_key(staff, local_now.date())
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
    pending = pending_staff(session, settings, now)
    due = due_for_all(session, pending, settings, now=now)
    return each(session, pending, lambda item: _digest_one(session, item[0], due[item[0].id], settings, now, item[1]),
                job="followup_digest")


def run_cadence(session: Session, *, now: datetime, settings: DomainSettings, channels: dict[str, str]) -> int:
    """How many customers are behind their grade's cadence. Sends nothing: they are listed in the digest."""
    return repo.count_behind(session, now=now, last_before=last_before(settings, now))
