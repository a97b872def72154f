"""Jobs whose work lives in the sales and service packages; these wrappers only call them.

Each service function writes its own outbox rows and is idempotent. `sla_watch` runs two parts, each in its
own savepoint, so that one failing part neither stops nor undoes the other; the failure is logged and
recorded as the run's error (`scheduler.jobs.failed`), never dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from handlers.services import pool, ratings, reviews, sla
from handlers.settings import DomainSettings
from scheduler.jobs import failed

log = logging.getLogger("crm.jobs")


def _part(session: Session, job: str, fn: Callable[..., int], **kw: object) -> int:
    try:
        with session.begin_nested():
            return int(fn(session, **kw))
    except Exception as e:  # noqa: BLE001 - recorded as the run's error below; the other part still runs
        log.exception("job %s: %s.%s failed", job, fn.__module__, fn.__name__)
        failed(session, f"{fn.__module__}.{fn.__name__}", e)
        return 0


def sla_watch(session: Session, *, now: datetime, settings: DomainSettings, channels: dict[str, str]) -> int:
    """Escalate each passed SLA deadline once; close resolved tickets nobody reopened."""
    n = _part(session, "sla_watch", sla.escalate_due, now=now, settings=settings, channels=channels)
    n += _part(session, "sla_watch", ratings.auto_close_due, now=now, settings=settings, channels=channels)
    return n


def complaint_review(session: Session, *, now: datetime, settings: DomainSettings,
                     channels: dict[str, str]) -> int:
    return reviews.post_complaint_review(session, now=now, settings=settings, channels=channels)


def pool_return(session: Session, *, now: datetime, settings: DomainSettings, channels: dict[str, str]) -> int:
    return pool.return_stale_to_pool(session, now=now, settings=settings)


def rating_reminder(session: Session, *, now: datetime, settings: DomainSettings,
                    channels: dict[str, str]) -> int:
    return ratings.send_rating_reminders(session, now=now, settings=settings)
