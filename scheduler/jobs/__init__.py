"""Scheduled jobs. Each is `run(session, *, now, settings, channels) -> int` (how many items it handled).

A job selects what is due, writes outbox rows (never calls Slack or Telegram), is idempotent (an outbox key
or a stamp such as `first_contact_reminded_at`), and handles each item in its own savepoint so that one bad
item neither stops nor undoes the others.

A job run in a read unit of work (`per_item` in scheduler/registry.py) selects its items outside the writer
lock; `each` then commits as it goes: a transaction holding the lock from its start takes items while nobody
else waits for the lock (at most `BATCH_SECONDS`), and commits as soon as a chat command, the sender or the
lease renewal is queued. So the lock is never held longer than one item for anybody waiting, and a run cut
short keeps what it committed; run again, it selects only what is still to do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session

from storage.db import unit_of

log = logging.getLogger("crm.jobs")

BATCH_SECONDS = 0.2  # a job's write transaction commits after this long even when nobody waits

T = TypeVar("T")

FAILED_PART = "job_failed_part"  # session.info key: what failed in this run, recorded as the run's error


def failed(session: Session, what: str, e: Exception) -> None:
    """Note that part of a run failed (already logged): `scheduler.runner.run_job` records it on the run."""
    session.info.setdefault(FAILED_PART, f"{what}: {type(e).__name__}: {e}")


def each(session: Session, items: Iterable[T], fn: Callable[[T], bool], *, job: str) -> int:
    """Run `fn(item)` for every item in its own savepoint; count the items for which it returned True.
    A failing item is undone alone, logged, and recorded as the run's error. In a read unit of work, the items
    are committed in batches that give the writer lock up whenever someone waits for it (see above)."""
    unit = unit_of(session)
    batched = unit is not None and not unit.write
    items = list(items)  # selected now: in a read unit, before any lock is taken
    done, since = 0, None
    try:
        for item in items:
            if batched and since is None:
                if session.in_transaction():
                    session.commit()  # the read that selected the items
                unit.write, since = True, time.monotonic()  # the next transaction holds the lock from its start
            try:
                with session.begin_nested():
                    if fn(item):
                        done += 1
            except Exception as e:  # noqa: BLE001 - one bad item must not stop the others; recorded below
                ref = getattr(item, "id", item)
                log.exception("job %s: item %r failed", job, ref)
                failed(session, f"item {ref!r}", e)
            if batched and (time.monotonic() - since > BATCH_SECONDS or unit.queue is None
                            or unit.queue.waiting()):
                session.commit()
                unit.write, since = False, None
        if batched and since is not None:
            session.commit()
    finally:
        if batched:
            unit.write = False
    return done


def zone(name: str | None, default: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def local(dt: datetime, tz: ZoneInfo) -> datetime:
    return dt.astimezone(tz)
