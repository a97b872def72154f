"""`GET /healthz`: is this instance fit to serve? The database answers, the scheduler's jobs run, the outbox
drains. 200 with the report, or 503 with the reasons (JSON, no personal data).

    {"ok": true, "database": "ok", "scheduler": {"role": "leader", "jobs": {"sla_watch": {...}}},
     "outbox": {"pending": 0, "failed": 0, "oldest_pending_age_s": null}, "reasons": []}

Unhealthy (503) when: the database does not answer; the oldest undelivered outbox row waited longer than
`outbox_max_age` (the platform is down or the sender is stuck); an interval job last ran longer ago than three
of its intervals plus `job_grace` (no instance runs the scheduler). The checks only read (`read_scope`): on SQLite they never wait
for a long job's write lock. A job whose last run failed is reported
(`"failed": true`) but is not a reason: the next tick tries again and the error is in the log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlalchemy.engine import Engine

from handlers.settings import DomainSettings
from scheduler import registry, runner
from storage import outbox
from storage.db import read_scope, utcnow

OUTBOX_MAX_AGE = timedelta(minutes=15)
JOB_GRACE = timedelta(minutes=2)


def fmt_age(d: timedelta) -> str:
    s = int(d.total_seconds())
    return f"{s} s" if s < 120 else f"{s // 60} min" if s < 7200 else f"{s // 3600} h"


class Health:
    """`role()` says whether this instance runs the scheduler: `leader`, `follower`, or `none` (no scheduler in
    this process, or not started yet). `check()` runs the checks (blocking: call it from a worker thread)."""

    def __init__(self, engine: Engine, settings: DomainSettings, *, clock: Callable[[], datetime] = utcnow,
                 role: Callable[[], str] = lambda: "none", outbox_max_age: timedelta = OUTBOX_MAX_AGE,
                 job_grace: timedelta = JOB_GRACE) -> None:
        self.engine, self.settings, self.clock, self.role = engine, settings, clock, role
        self.outbox_max_age, self.job_grace = outbox_max_age, job_grace

    def check(self) -> tuple[bool, dict]:
        now = self.clock()
        report: dict = {"ok": False, "database": "ok", "scheduler": {"role": self.role(), "jobs": {}},
                        "outbox": {}, "reasons": []}
        reasons: list[str] = report["reasons"]
        try:
            with read_scope(self.engine) as s:
                s.execute(text("SELECT 1"))
                counts = outbox.counts(s)
                oldest = outbox.oldest_pending(s)
                runs = runner.latest_runs(s)
        except Exception as e:  # noqa: BLE001 - the report names the failure; the caller answers 503
            report["database"] = f"unreachable ({type(getattr(e, 'orig', None) or e).__name__})"
            reasons.append(f"database: {report['database']}")
            return False, report
        age = now - oldest if oldest else None
        report["outbox"] = {"pending": counts.get("pending", 0) + counts.get("sending", 0),
                            "failed": counts.get("failed", 0), "sent": counts.get("sent", 0),
                            "oldest_pending_age_s": round(age.total_seconds(), 1) if age else None}
        if age is not None and age > self.outbox_max_age:
            reasons.append(f"outbox: the oldest undelivered message has waited {fmt_age(age)} "
                           f"(more than {fmt_age(self.outbox_max_age)})")
        jobs = report["scheduler"]["jobs"]
        for name, job in registry.JOBS.items():
            run = runs.get(name)
            jobs[name] = {"last_run": run.started_at.isoformat() if run else None,
                          "items": run.items if run else None, "failed": bool(run and run.error)}
            trigger = job.trigger(self.settings) if job.trigger else None
            if run is None or not isinstance(trigger, IntervalTrigger):
                continue
            late = now - run.started_at
            if late > trigger.interval * 3 + self.job_grace:
                reasons.append(f"scheduler: job {name} last ran {fmt_age(late)} ago "
                               f"(every {fmt_age(trigger.interval)}): is any instance the leader?")
        report["ok"] = not reasons
        return report["ok"], report
