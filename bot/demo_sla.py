"""The demo's SLA history, made by the real SLA watch: the tickets' steps (opened, assigned, contacted,
resolved, closed) are applied in time order, and `handlers.services.sla.escalate_due` runs at every moment
the scheduled watch would have acted — each deadline as it passes, each level-2 escalation as it falls due —
while meeting a deadline goes through `sla.meet` as the ticket services do. So `/report sla` records every
breach `/tickets breaching` shows. The alerts the watch wrote were delivered at the time (their outbox rows
are marked sent: opening the demo does not replay months of alerts).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from handlers.services.sla import KINDS, due_of, escalate_due
from storage.models import Outbox, Ticket

if TYPE_CHECKING:
    from bot.demo_data import Demo


@dataclass(frozen=True)
class Step:
    """Something that happened to `ticket` at `at` (`apply(at)` makes it so)."""

    ticket: Ticket
    at: datetime
    apply: Callable[[datetime], None]


def replay(d: Demo, steps: list[Step], *, channels: dict[str, str]) -> int:
    """Apply `steps` in time order with the SLA watch in between. Returns the number of escalations."""
    first_row = d.s.scalar(select(func.coalesce(func.max(Outbox.id), 0)))
    queue: list[tuple[datetime, int, int, Step | None]] = []  # (when, 0 step | 1 watch, tie-break, step)
    order = itertools.count()
    watched: set[datetime] = set()

    def watch_at(at: datetime | None) -> None:
        if at is not None and at <= d.now and at not in watched:
            watched.add(at)
            heapq.heappush(queue, (at, 1, next(order), None))

    for s in steps:
        heapq.heappush(queue, (s.at, 0, next(order), s))
    made = 0
    while queue:
        at, kind, _, step = heapq.heappop(queue)
        if step is not None:  # a deadline met at the very minute it falls due is met: steps go first
            step.apply(at)
            for k in KINDS:
                watch_at(due_of(step.ticket, k))
            continue
        n = escalate_due(d.s, now=at, settings=d.st, channels=channels)
        if n:
            made += n
            watch_at(at + d.st.escalate_after)  # when level 2 falls due, if still unmet
    d.s.execute(update(Outbox).where(Outbox.id > first_row).values(status="sent", sent_at=Outbox.created_at))
    d.s.flush()
    return made
