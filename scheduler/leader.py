"""Exactly one scheduler among several instances: a lease row in `scheduler_lease`.

`Lease.acquire()` takes the row if it is free or expired, or renews it when we hold it; both are one
conditional UPDATE (or an INSERT … ON CONFLICT DO NOTHING for the first holder), so two instances can never
both succeed: on PostgreSQL the second UPDATE waits for the first and re-checks the condition, on SQLite the
write lock serialises them. The holder renews every `every` seconds; if it dies, the lease expires after
`ttl` and a follower takes over at its next try: within `ttl + every` (20 s + 5 s by default).

If a leader is paused for longer than `ttl` (a frozen VM), two schedulers may overlap briefly. That is safe:
every job is idempotent through outbox keys and stamps, so the overlap sends nothing twice.
Instance clocks are compared through the lease's expiry: keep them in sync (NTP), as usual for servers.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine

from storage.db import insert_ignore, session_scope, utcnow
from storage.models import SchedulerLease

log = logging.getLogger("crm.scheduler")

TTL = timedelta(seconds=20)
EVERY = 5.0


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    def __init__(self, engine: Engine, *, holder: str | None = None, name: str = "scheduler",
                 ttl: timedelta = TTL, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine, self.name, self.ttl, self.clock = engine, name, ttl, clock
        self.holder = holder or holder_name()

    def acquire(self) -> bool:
        """Take or renew the lease. True when we hold it until `now + ttl`."""
        now = self.clock()
        with session_scope(self.engine, urgent=True) as s:  # never starved by chat or a job
            res = s.execute(update(SchedulerLease)
                            .where(SchedulerLease.name == self.name,
                                   (SchedulerLease.holder == self.holder) | (SchedulerLease.expires_at < now))
                            .values(holder=self.holder, expires_at=now + self.ttl))
            if res.rowcount:
                return True
            return insert_ignore(s, SchedulerLease, conflict=["name"], name=self.name, holder=self.holder,
                                 expires_at=now + self.ttl)

    def release(self) -> None:
        """Give the lease up (a clean shutdown): a follower takes over at its next try."""
        with session_scope(self.engine, urgent=True) as s:
            s.execute(update(SchedulerLease)
                      .where(SchedulerLease.name == self.name, SchedulerLease.holder == self.holder)
                      .values(expires_at=self.clock() - timedelta(seconds=1)))


class Leadership:
    """Try for the lease every `every` seconds; call `on_elected` when won and `on_deposed` when lost."""

    def __init__(self, lease: Lease, *, on_elected: Callable[[], None], on_deposed: Callable[[], None],
                 every: float = EVERY) -> None:
        self.lease, self.on_elected, self.on_deposed, self.every = lease, on_elected, on_deposed, every
        self.is_leader = False
        self._held_until: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> bool:
        """One round: renew or try to take the lease, start or stop the scheduler. Returns `is_leader`."""
        try:
            held = self.lease.acquire()
        except Exception:  # noqa: BLE001 - the database is unreachable: lead on only while our lease lasts
            log.exception("scheduler lease: renewal failed")
            held = self.is_leader and self._held_until is not None and self.lease.clock() < self._held_until
        else:
            if held:
                self._held_until = self.lease.clock() + self.lease.ttl
        if held and not self.is_leader:
            log.info("scheduler lease taken by %s: running the scheduler", self.lease.holder)
            self.on_elected()
            self.is_leader = True
        elif not held and self.is_leader:
            log.warning("scheduler lease lost by %s: stopping the scheduler", self.lease.holder)
            self.is_leader = False
            self.on_deposed()
        return self.is_leader

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.step()
                except Exception:  # noqa: BLE001 - e.g. the scheduler failed to start: try again next round
                    log.exception("scheduler leadership round failed")
                self._stop.wait(self.every)

        self._thread = threading.Thread(target=loop, name="scheduler-leader", daemon=True)
        self._thread.start()

    def stop(self, *, release: bool = True) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        if self.is_leader:
            self.is_leader = False
            try:
                self.on_deposed()
            finally:
                if release:
                    try:
                        self.lease.release()
                    except Exception:  # noqa: BLE001
                        log.exception("scheduler lease: release failed")
