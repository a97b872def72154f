"""Scheduled jobs. Each is `run(session, *, now, settings, channels) -> int` (how many items it handled).

A job selects what is due, writes outbox rows (never calls Slack or Telegram), is idempotent (an outbox key
or a stamp such as `first_contact_reminded_at`), and handles each item in its own savepoint so that one bad
item neither stops nor undoes the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session

log = logging.getLogger("crm.jobs")

T = TypeVar("T")

FAILED_PART = "job_failed_part"  # session.info key: what failed in this run, recorded as the run's error


def failed(session: Session, what: str, e: Exception) -> None:
    """Note that part of a run failed (already logged): `scheduler.runner.run_job` records it on the run."""
    session.info.setdefault(FAILED_PART, f"{what}: {type(e).__name__}: {e}")


def each(session: Session, items: Iterable[T], fn: Callable[[T], bool], *, job: str) -> int:
    """Run `fn(item)` for every item in its own savepoint; count the items for which it returned True.
    A failing item is undone alone, logged, and recorded as the run's error."""
    done = 0
    for item in items:
        try:
            with session.begin_nested():
                if fn(item):
                    done += 1
        except Exception as e:  # noqa: BLE001 - one bad item must not stop the others; recorded below
            ref = getattr(item, "id", item)
            log.exception("job %s: item %r failed", job, ref)
            failed(session, f"item {ref!r}", e)
    return done


def zone(name: str | None, default: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


def local(dt: datetime, tz: ZoneInfo) -> datetime:
    return dt.astimezone(tz)
