"""`GET /metrics` in the Prometheus text format (prometheus-client), one registry per running bot.

Counted as they happen (per process): commands by platform, verb and outcome (`crm_commands_total`), their
latency (`crm_command_duration_seconds`), HTTP requests by route and status. Read from the database at each
scrape (the same for every instance): outbox messages by status and the oldest one's wait, SLA breaches by
kind, active dialogs, each job's last run (start time, duration, items, failed; the digest's run time is
`crm_job_last_duration_seconds{job="followup_digest"}`). A scrape while the database is away still answers,
with `crm_database_up 0`.

The core does not import this module: `Metrics.attach(core)` subscribes `observe` to `core.observers`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from handlers.observe import UnitDone
from scheduler import runner
from storage import outbox
from storage.db import read_scope, utcnow
from storage.repos import ops

log = logging.getLogger("crm.metrics")

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")
SLA_KINDS = ("assign", "contact", "resolve")


class DatabaseCollector(Collector):
    """Figures read from the database at scrape time."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine, self.clock = engine, clock

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("crm_database_up", "1 when the database answered this scrape")
        try:
            families = self._read()
        except Exception as e:  # noqa: BLE001 - reported as crm_database_up 0 and one log line
            log.warning("metrics: the database did not answer (%s)", type(getattr(e, "orig", None) or e).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> list[Metric]:
        now = self.clock()
        with read_scope(self.engine) as s:
            counts = outbox.counts(s)
            oldest = outbox.oldest_pending(s)
            breaches = ops.sla_breaches_by_kind(s)
            dialogs = ops.active_dialogs(s, now=now)
            runs = runner.latest_runs(s)
        box = GaugeMetricFamily("crm_outbox_messages", "outbox rows by status", labels=["status"])
        for status in OUTBOX_STATUSES:
            box.add_metric([status], counts.get(status, 0))
        age = GaugeMetricFamily("crm_outbox_oldest_pending_age_seconds",
                                "how long the oldest undelivered outbox row has waited (0 when none)")
        age.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)
        sla = GaugeMetricFamily("crm_sla_breaches", "SLA deadlines missed, ever, by kind", labels=["kind"])
        for kind in sorted(set(SLA_KINDS) | set(breaches)):
            sla.add_metric([kind], breaches.get(kind, 0))
        dlg = GaugeMetricFamily("crm_active_dialogs", "guided dialogs under way, by dialog", labels=["dialog"])
        for name, n in sorted(dialogs.items()):
            dlg.add_metric([name], n)
        started = GaugeMetricFamily("crm_job_last_run_timestamp_seconds", "start of each job's last run",
                                    labels=["job"])
        took = GaugeMetricFamily("crm_job_last_duration_seconds", "run time of each job's last run",
                                 labels=["job"])
        items = GaugeMetricFamily("crm_job_last_items", "items each job's last run handled", labels=["job"])
        failed = GaugeMetricFamily("crm_job_last_failed", "1 when the job's last run failed", labels=["job"])
        for name, run in sorted(runs.items()):
            started.add_metric([name], run.started_at.timestamp())
            end = run.finished_at or run.started_at
            took.add_metric([name], max((end - run.started_at).total_seconds(), 0.0))
            items.add_metric([name], run.items)
            failed.add_metric([name], 1 if run.error else 0)
        return [box, age, sla, dlg, started, took, items, failed]


class Metrics:
    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.registry = CollectorRegistry()
        self.commands = Counter("crm_commands", "units of work by platform, verb and outcome",
                                ["platform", "verb", "outcome"], registry=self.registry)
        self.latency = Histogram("crm_command_duration_seconds", "time to handle one unit of work, by verb",
                                 ["verb"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.http = Counter("crm_http_requests", "HTTP requests by route and status", ["route", "status"],
                            registry=self.registry)
        self.http_latency = Histogram("crm_http_request_duration_seconds", "time to answer an HTTP request",
                                      ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.registry.register(DatabaseCollector(engine, clock))

    def attach(self, core) -> Metrics:  # noqa: ANN001 - handlers.router.Core
        core.observers.append(self.observe)
        return self

    def observe(self, ev: UnitDone) -> None:
        self.commands.labels(ev.platform, ev.verb, ev.outcome).inc()
        self.latency.labels(ev.verb).observe(ev.duration)

    def http_done(self, route: str, status: int, seconds: float) -> None:
        self.http.labels(route, str(status)).inc()
        self.http_latency.labels(route).observe(seconds)

    def scrape(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
