"""The jobs, their triggers and their misfire policy, in one table.

Misfire and coalescing (see docs/scaling.md):
- Every job is added with `coalesce=True`: runs that piled up while the process was busy or asleep collapse
  into one run — every job works from the state of the database, so one run catches up everything.
- Frequent, state-based jobs (`followup_digest` every minute, `sla_watch` every 20 s, …) get a short
  `misfire_grace_time`: a run that is late by more than that is skipped, the next tick does the same work.
  Catch-up of a missed 09:00 is natural: the digest job picks every rep whose reminder time has passed today
  and who has no digest row for today.
- Calendar jobs (`complaint_review` Mondays 09:00, `pool_return` nightly) get a long grace, and because an
  in-memory job store forgets missed fire times across a restart, the runner also compares their last fire
  time with the `job_run` table at start and runs a missed one once (`catch_up`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from handlers.settings import DomainSettings
from scheduler.jobs import backup, delegated, digest, first_contact, housekeeping, manager, pool_warning

JobFn = Callable[..., int]  # run(session, *, now, settings, channels) -> int


@dataclass(frozen=True)
class Job:
    name: str
    run: JobFn
    description: str
    trigger: Callable[[DomainSettings], BaseTrigger] | None  # None: run by hand only
    misfire_grace: int = 30  # seconds
    catch_up: timedelta | None = None  # calendar jobs: run a missed fire time at start if within this
    per_item: bool = False  # commits item by item (scheduler.jobs.each) or batch by batch: runs in a read unit


def _every(**kw: int) -> Callable[[DomainSettings], BaseTrigger]:
    return lambda s: IntervalTrigger(**kw, timezone=s.default_tz)


JOBS: dict[str, Job] = {j.name: j for j in (
    Job("followup_digest", digest.run_digest,
        "each rep's overdue and today's follow-ups and customers behind cadence, at their local reminder time",
        _every(minutes=1), misfire_grace=50, per_item=True),
    Job("first_contact", first_contact.run,
        "a new lead with no follow-up: remind the owner after 20 h, tell their manager when 24 h have passed",
        _every(minutes=5), misfire_grace=240, per_item=True),
    Job("team_alert", manager.run_team_alert,
        "each manager's team customers behind cadence (by rep) and first contacts missed, at their reminder time",
        _every(minutes=5), misfire_grace=240),
    Job("weekly_summary", manager.run_weekly_summary,
        "each manager's team summary of last week (Mondays, their local CRM_WEEKLY_SUMMARY_TIME)",
        _every(minutes=5), misfire_grace=240),
    Job("cadence", digest.run_cadence,
        "count customers behind their grade's cadence (they are listed in the digest; sends nothing)", None,
        per_item=True),
    Job("sla_watch", delegated.sla_watch,
        "escalate each passed SLA deadline once; auto-close resolved tickets", _every(seconds=20),
        misfire_grace=15),
    Job("complaint_review", delegated.complaint_review,
        "the weekly complaint review to supervisors (Mondays 09:00)",
        lambda s: CronTrigger(day_of_week="mon", hour=9, minute=0, timezone=s.default_tz),
        misfire_grace=6 * 3600, catch_up=timedelta(days=1)),
    Job("pool_return", delegated.pool_return,
        "customers without a follow-up for N days go back to the pool; owners told (nightly 02:00)",
        lambda s: CronTrigger(hour=2, minute=0, timezone=s.default_tz),
        misfire_grace=6 * 3600, catch_up=timedelta(hours=20), per_item=True),
    Job("pool_warning", pool_warning.run,
        "N days before a customer returns to the pool its owner is warned once, with Log and Keep",
        _every(minutes=15), misfire_grace=600),
    Job("rating_reminder", delegated.rating_reminder,
        "ask once more for a rating 24 h after close", _every(minutes=10), misfire_grace=540),
    Job("housekeeping", housekeeping.run,
        "forget old delivery ids, expired buttons and dialogs, sent messages' text after CRM_OUTBOX_KEEP_TEXT and "
        "the rows after 90 days (nightly 03:30)",
        lambda s: CronTrigger(hour=3, minute=30, timezone=s.default_tz), misfire_grace=6 * 3600),
    Job("backup", backup.run,
        "a copy of the SQLite database in CRM_BACKUP_DIR, the newest CRM_BACKUP_KEEP kept (nightly 03:00; off "
        "while CRM_BACKUP_DIR is empty)",
        lambda s: CronTrigger(hour=3, minute=0, timezone=s.default_tz), misfire_grace=6 * 3600),
)}


def get(name: str) -> Job:
    return JOBS[name]
