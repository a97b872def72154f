"""Background services of a running bot: the outbox sender and the scheduler (on the elected instance).

The Slack and Telegram adapters call `start_background(app, transports)` once they are up and
`handle.stop()` on shutdown:
- the `Sender` drains the outbox through `transports` every few seconds, and at once whenever the core or a
  job wrote rows (`app.core.on_outbox`);
- a `Leadership` loop competes for the scheduler lease; the instance that holds it runs the APScheduler with
  every job (scheduler/runner.py). On SQLite there is one instance, which always wins.
- whatever else only one instance may do follows the lease through `on_elected` / `on_deposed`: Telegram long
  polling (`TelegramBot.lead` / `step_down`), since Telegram refuses a second poller of one token (409 Conflict).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.delivery import Transport
from bot.outbox import Sender, worker_name
from scheduler import leader, runner
from storage.db import read_scope
from storage.repos.settings import with_stored_channels

log = logging.getLogger("crm.services")


@dataclass
class Background:
    sender: Sender
    leadership: leader.Leadership | None
    own_sender: bool = True
    _scheduler: list = field(default_factory=list)  # the running APScheduler, while we lead
    _unhook: Callable[[], None] = lambda: None
    _stopping: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def is_leader(self) -> bool:
        return bool(self.leadership and self.leadership.is_leader)

    def stop(self) -> None:
        """Stop the scheduler (letting a running job finish), release the lease, stop the sender."""
        self._stopping = True
        if self.leadership:
            self.leadership.stop()
        self._unhook()
        if self.own_sender:
            self.sender.stop()


def _warn_without_service_channel(app) -> None:  # noqa: ANN001 - bot.app.App
    """A running chat adapter with no supervisor channel anywhere: neither in the environment nor stored by
    `/setup service` (which is how the README sets it, so a restart after it must not warn)."""
    if "console" not in app.core.channels:
        return
    with read_scope(app.engine) as s:
        if "console" not in with_stored_channels(s, app.core.channels):
            return
    log.warning("no service channel is set: an admin types /setup service in the supervisors' channel (or set "
                "SLACK_SERVICE_CHANNEL / TELEGRAM_SERVICE_CHAT); until then new-ticket posts, SLA alerts and the "
                "weekly review wait undelivered")


def start_background(app, transports: dict[str, Transport], *,  # noqa: ANN001 - bot.app.App
                     clock: Callable[[], datetime] | None = None, scheduler: bool = True,
                     sender_interval: float = 2.0, lease_ttl: timedelta = leader.TTL,
                     lease_every: float = leader.EVERY, sender: Sender | None = None,
                     on_elected: Sequence[Callable[[], None]] = (),
                     on_deposed: Sequence[Callable[[], None]] = ()) -> Background:
    """Start the sender and (with `scheduler`) the leader election + scheduler. Returns a handle to stop.

    `on_elected` run (in the leadership thread) after the scheduler started on this instance, `on_deposed`
    before it stops — when the lease is lost and on a clean shutdown while leading.

    An adapter that already runs its own `Sender` passes it as `sender`: it is then only woken by the jobs'
    writes, and started, hooked to `core.on_outbox` and stopped by its owner, not here.
    """
    clock = clock or app.core.clock
    _warn_without_service_channel(app)
    bg = Background(sender=sender, leadership=None, own_sender=sender is None)  # type: ignore[arg-type]
    app.background = bg  # /healthz reports the scheduler role from it
    if sender is None:
        sender = bg.sender = Sender(app.engine, transports, clock=clock, worker=worker_name())
        app.core.on_outbox.append(sender.wake)
        sender.start(interval=sender_interval)
        bg._unhook = lambda: app.core.on_outbox.remove(sender.wake) if sender.wake in app.core.on_outbox else None
    if not scheduler:
        return bg

    def elected() -> None:
        with bg._lock:
            sched = runner.build_scheduler(app.engine, app.settings, app.core.channels, clock=clock,
                                           on_written=sender.wake)
            sched.start()
            bg._scheduler[:] = [sched]
        for hook in on_elected:
            hook()

    def deposed() -> None:
        try:
            for hook in on_deposed:  # e.g. stop polling first: the next leader may start at once
                hook()
        finally:
            with bg._lock:
                for sched in bg._scheduler:
                    sched.shutdown(wait=bg._stopping)  # lease lost: stop at once; shutting down: finish the job
                bg._scheduler.clear()

    lease = leader.Lease(app.engine, ttl=lease_ttl, clock=clock)
    bg.leadership = leader.Leadership(lease, on_elected=elected, on_deposed=deposed, every=lease_every)
    bg.leadership.start()
    return bg
