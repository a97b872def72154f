"""Running jobs: one run by hand or by the scheduler (`run_job`), and the one APScheduler that runs them all.

`run_job` opens one unit of work, calls the job, commits, records a `job_run` row (with the error of a part
or item that failed, see `scheduler.jobs.failed`) and calls `on_written` when outbox rows were written (the
sender wakes at once). A short job runs as one write unit (it holds SQLite's writer queue, storage/db.py, from
its start). A job marked `per_item` (the digest, pool_return: long at scale) gets a read unit instead: it selects
its work without the lock and commits item by item or batch by batch (`scheduler.jobs.each`,
`storage.db.transaction`), so that chat commands, the outbox sender and the lease renewal take turns with it;
each item or batch is idempotent, so a run cut short and run again acts once. `build_scheduler` adds every job of the registry with an explicit id,
`replace_existing=True`, `coalesce=True`, `max_instances=1` and its own misfire grace; it is started only by
the instance that holds the scheduler lease (scheduler/leader.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from handlers.settings import DomainSettings
from scheduler import registry
from scheduler.jobs import FAILED_PART
from storage.db import session_scope, utcnow
from storage.models import JobRun
from storage.repos.settings import with_stored_channels

log = logging.getLogger("crm.scheduler")

KEEP_RUNS = timedelta(days=14)  # job_run history kept per job (the frequent jobs write one row per tick)


def run_job(engine: Engine, name: str, *, now: datetime, settings: DomainSettings, channels: dict[str, str],
            on_written: Callable[[], None] | None = None, clock: Callable[[], datetime] | None = None) -> int:
    """Run job `name` once as of `now`; returns the number of items it handled. Raises what the job raised."""
    job = registry.get(name)
    error, n, wrote = None, 0, False
    try:
        with session_scope(engine, write=not job.per_item) as s:
            n = job.run(s, now=now, settings=settings, channels=with_stored_channels(s, channels))
            wrote = bool(s.info.pop("outbox_added", False))
            error = s.info.pop(FAILED_PART, None)  # a part or item failed (logged); the rest stands
    except Exception as e:
        error = f"{type(e).__name__}: {e}"[:500]
        raise
    finally:
        _record(engine, name, now, (clock or (lambda: now))(), n, error)
    if wrote and on_written:
        on_written()
    return n


def _record(engine: Engine, name: str, started: datetime, finished: datetime, n: int, error: str | None) -> None:
    try:
        with session_scope(engine) as s:
            s.add(JobRun(name=name, started_at=started, finished_at=max(finished, started), items=n, error=error))
            s.execute(delete(JobRun).where(JobRun.name == name, JobRun.started_at < started - KEEP_RUNS))
    except Exception:  # noqa: BLE001 - bookkeeping must not hide the job's own outcome
        log.exception("could not record the run of %s", name)


def last_runs(engine: Engine) -> dict[str, JobRun]:
    """The latest run of each job."""
    with session_scope(engine, write=False) as s:
        return latest_runs(s)


def latest_runs(session: Session) -> dict[str, JobRun]:
    """The latest run of each job, in `session`."""
    out: dict[str, JobRun] = {}
    for name in registry.JOBS:
        r = session.scalar(select(JobRun).where(JobRun.name == name).order_by(JobRun.started_at.desc()).limit(1))
        if r is not None:
            out[name] = r
    return out


def previous_fire(trigger: BaseTrigger, now: datetime, *, horizon: timedelta = timedelta(days=8)) -> datetime | None:
    """The last time `trigger` fired at or before `now` (looking back at most `horizon`)."""
    t, last = now - horizon, None
    for _ in range(1000):
        nxt = trigger.get_next_fire_time(None, t)
        if nxt is None or nxt > now:
            break
        last, t = nxt, nxt + timedelta(seconds=1)
    return last


def missed(engine: Engine, settings: DomainSettings, *, now: datetime) -> list[str]:
    """Calendar jobs whose last fire time passed (within their catch-up window) with no run since."""
    out = []
    with session_scope(engine, write=False) as s:
        for job in registry.JOBS.values():
            if job.trigger is None or job.catch_up is None:
                continue
            fired = previous_fire(job.trigger(settings), now)
            if fired is None or now - fired > job.catch_up:
                continue
            ran = s.scalar(select(JobRun.id).where(JobRun.name == job.name, JobRun.started_at >= fired,
                                                   JobRun.error.is_(None)).limit(1))
            if ran is None:
                out.append(job.name)
    return out


def build_scheduler(engine: Engine, settings: DomainSettings, channels: dict[str, str], *,
                    clock: Callable[[], datetime] = utcnow,
                    on_written: Callable[[], None] | None = None, first_run_in: float = 2.0) -> BackgroundScheduler:
    """The scheduler with every job added (not started). Interval jobs first run `first_run_in` seconds after
    start (not a whole interval later: a new leader catches up at once); missed calendar jobs run at once."""

    def fire(name: str) -> None:
        try:
            run_job(engine, name, now=clock(), settings=settings, channels=channels, on_written=on_written,
                    clock=clock)
        except Exception:  # noqa: BLE001 - logged; the next tick tries again
            log.exception("job %s failed", name)

    sched = BackgroundScheduler(timezone=settings.default_tz, job_defaults={"coalesce": True, "max_instances": 1})
    try:
        late = set(missed(engine, settings, now=clock()))
    except Exception:  # noqa: BLE001 - e.g. the database is briefly unreachable: the regular times still hold
        log.exception("could not check for missed runs")
        late = set()
    soon = utcnow() + timedelta(seconds=first_run_in)
    for job in registry.JOBS.values():
        if job.trigger is None:
            continue
        trigger = job.trigger(settings)
        extra = {}
        if isinstance(trigger, IntervalTrigger) or job.name in late:
            # a missed calendar job fires once now and then keeps its regular times (no separate one-shot job:
            # APScheduler removing a finished one-shot job races with a shutdown and logs a JobLookupError)
            extra = {"next_run_time": soon}
            if job.name in late:
                log.info("job %s missed its last run: running it now", job.name)
        sched.add_job(fire, trigger, args=(job.name,), id=job.name, name=job.name, replace_existing=True,
                      coalesce=True, max_instances=1, misfire_grace_time=job.misfire_grace, **extra)
    return sched
