"""Jobs whose work lives in the sales and service packages; these wrappers only call them.

Each service function writes its own outbox rows and is idempotent. Until a feature package exists the
wrapper does nothing (and says so once in the log), so the scheduler runs on any build.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from handlers.settings import DomainSettings

log = logging.getLogger("crm.jobs")
_missing_logged: set[str] = set()


def service(module: str, func: str) -> Callable[..., int] | None:
    """`handlers.services.<module>.<func>`, or None while that feature is not installed."""
    name = f"handlers.services.{module}"
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name not in (name, "handlers.services"):
            raise
        if name not in _missing_logged:
            _missing_logged.add(name)
            log.info("job skipped: %s is not installed", name)
        return None
    return getattr(mod, func)


def _call(session: Session, module: str, func: str, job: str, **kw: object) -> int:
    fn = service(module, func)
    if fn is None:
        return 0
    try:
        with session.begin_nested():
            return int(fn(session, **kw) or 0)
    except Exception:  # noqa: BLE001 - one failing part must not stop the others
        log.exception("job %s: %s.%s failed", job, module, func)
        return 0


def sla_watch(session: Session, *, now: datetime, settings: DomainSettings, channels: dict[str, str]) -> int:
    """Escalate each passed SLA deadline once; close resolved tickets nobody reopened."""
    n = _call(session, "sla", "escalate_due", "sla_watch", now=now, settings=settings, channels=channels)
    n += _call(session, "tickets", "auto_close_due", "sla_watch", now=now, settings=settings, channels=channels)
    return n


def complaint_review(session: Session, *, now: datetime, settings: DomainSettings,
                     channels: dict[str, str]) -> int:
    return _call(session, "reviews", "post_complaint_review", "complaint_review", now=now, settings=settings,
                 channels=channels)


def pool_return(session: Session, *, now: datetime, settings: DomainSettings, channels: dict[str, str]) -> int:
    return _call(session, "pool", "return_stale_to_pool", "pool_return", now=now, settings=settings)


def rating_reminder(session: Session, *, now: datetime, settings: DomainSettings,
                    channels: dict[str, str]) -> int:
    return _call(session, "ratings", "send_rating_reminders", "rating_reminder", now=now, settings=settings)
