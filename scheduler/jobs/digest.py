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

import time as clock
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlmodel import Session

from handlers import notify
from handlers.cards.reminders import MAX_ITEMS as MAX_ITEMS  # re-export: tests
from handlers.cards.reminders import Due, digest
from handlers.settings import DomainSettings
from handlers.views import Reply, to_json
from scheduler import jobs
from scheduler.jobs import failed, log, zone
from storage import outbox
from storage.db import write_batch
from storage.models import Staff
from storage.repos import followups as followup_repo
from storage.repos import reminders as repo

BATCH_REPS = 200  # digests written per INSERT (one short write transaction)


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
    """Each rep's `Due` holding what the digest shows (at most MAX_ITEMS of each list) and the counts: three grouped
    statements per local day boundary (reps on the same day in the same offset share them), not a few per rep.
    The customers behind their cadence are listed after the due follow-ups, so they are read only for the reps
    with fewer than MAX_ITEMS follow-ups due (their counts for everyone: the summary shows them)."""
    groups: dict[datetime, list[Staff]] = {}
    for st, local_now in reps:
        groups.setdefault(_midnight(local_now), []).append(st)
    out: dict[int, Due] = {}
    for midnight, staff in groups.items():
        ids = {st.id for st in staff}
        day_end = midnight + timedelta(days=1)
        due = followup_repo.due_by_assignee(session, owner_ids=ids, before=day_end, split=midnight, first=MAX_ITEMS)
        room = {i for i in ids if due.get(i, ((), 0, 0))[1] < MAX_ITEMS}
        behind = repo.behind_cadence(session, owner_ids=ids, now=now, last_before=last_before(settings, now),
                                     listed_before=day_end, first=MAX_ITEMS, first_of=room)
        for st in staff:
            items, n_due, n_overdue = due.get(st.id, ([], 0, 0))
            customers, n_behind = behind.get(st.id, ([], 0))
            out[st.id] = Due(overdue=[(r, r) for r in items if r.next_followup_at < midnight],
                             today=[(r, r) for r in items if r.next_followup_at >= midnight],
                             behind=customers, counts=(n_overdue, n_due - n_overdue, n_behind))
    return out


# ---------------------------------------------------------------- the jobs


@dataclass(frozen=True)
class _Digest:
    """One rep's digest, built outside any transaction: the outbox row to write, or (rarely: an action too
    long for a button token) the reply for `notify.to_staff`, which stores the action first."""

    staff: Staff
    key: str
    row: dict | None
    reply: Reply | None = None


def _digest_one(session: Session, staff: Staff, due: Due, settings: DomainSettings, now: datetime,
                local_now: datetime) -> _Digest:
    key = digest_key(staff, local_now.date())
    if not len(due):  # decided for today: nothing to send, and no late digest if something comes up later
        platform, chat_ref, scope = notify.staff_address(staff)
        return _Digest(staff, key, outbox.row(key=key, platform=platform, chat_ref=chat_ref, scope=scope,
                                              payload=_EMPTY, now=now, staff_id=staff.id, status="skipped"))
    row = notify.staff_row(staff, key=key, reply=digest(staff, due, settings, now=now, local_now=local_now,
                                                       prerender=True), now=now)
    if row is None:  # `to_staff` stores the long actions first: it needs the views themselves
        return _Digest(staff, key, None, digest(staff, due, settings, now=now, local_now=local_now))
    return _Digest(staff, key, row)


_EMPTY = to_json(Reply())


def _write(session: Session, batch: list[_Digest], now: datetime) -> int:
    """Write a batch of digests: one INSERT … ON CONFLICT DO NOTHING for all of them (a key written already,
    by an earlier run, is left alone: sent once). Should that statement fail, each row is written in its own
    savepoint, so that one bad row neither stops nor undoes the others. Returns how many messages were added."""
    rows = [d.row for d in batch if d.row is not None]
    try:
        with session.begin_nested():
            keys = outbox.add_many(session, rows)
    except Exception:  # noqa: BLE001 - retried row by row below, where a bad row is logged and recorded
        log.warning("job followup_digest: a batch of %d rows failed; writing them one by one", len(rows))
        keys = set()
        for r in rows:
            try:
                with session.begin_nested():
                    if outbox.add(session, **{k: r[k] for k in _ADD_ARGS}, now=now):
                        keys.add(r["key"])
            except Exception as e:  # noqa: BLE001 - one bad row must not stop the others; recorded below
                log.exception("job followup_digest: item %r failed", r["key"])
                failed(session, f"item {r['key']!r}", e)
    sent = sum(1 for r in rows if r["key"] in keys and r["status"] == "pending")
    for d in batch:
        if d.reply is not None:
            try:
                with session.begin_nested():
                    sent += notify.to_staff(session, d.staff, key=d.key, reply=d.reply, now=now)
            except Exception as e:  # noqa: BLE001 - as above
                log.exception("job followup_digest: item %r failed", d.key)
                failed(session, f"item {d.key!r}", e)
    if sent:
        notify.mark_added(session)
    return sent


_ADD_ARGS = ("key", "platform", "chat_ref", "scope", "payload", "staff_id", "status")


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
    """Write today's digest for every active staff member whose local reminder time has passed.

    The digests are built outside the writer lock and written in batches (`write_batch`): up to `BATCH_REPS`
    reps, or what `BATCH_SECONDS` of building made, per short transaction of one INSERT. A run cut short keeps
    the batches it committed; run again, it selects only the reps still without a row for the day."""
    pending = pending_staff(session, settings, now)
    due = due_for_all(session, pending, settings, now=now)
    sent, batch, since = 0, [], clock.monotonic()
    for st, local_now in pending:
        try:
            batch.append(_digest_one(session, st, due[st.id], settings, now, local_now))
        except Exception as e:  # noqa: BLE001 - one bad rep must not stop the others; recorded on the run
            log.exception("job followup_digest: item %r failed", st.id)
            failed(session, f"item {st.id!r}", e)
        if batch and (len(batch) >= BATCH_REPS or clock.monotonic() - since > jobs.BATCH_SECONDS):
            with write_batch(session):
                sent += _write(session, batch, now)
            batch, since = [], clock.monotonic()
    if batch:
        with write_batch(session):
            sent += _write(session, batch, now)
    return sent


def run_cadence(session: Session, *, now: datetime, settings: DomainSettings, channels: dict[str, str]) -> int:
    """How many customers are behind their grade's cadence. Sends nothing: they are listed in the digest."""
    return repo.count_behind(session, now=now, last_before=last_before(settings, now))
