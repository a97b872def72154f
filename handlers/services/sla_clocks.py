"""SLA clocks (seed 002 §3.3; domain.md): which deadlines a ticket gets, and meeting them.

The assign clock starts when the ticket is created; the first-contact and resolve clocks start when the ticket
is assigned (an agent cannot contact or fix before someone owns the ticket). "Contacted" is the first handling
note or message to the customer after assignment. Complaints run on the complaint clock (the high-priority
times) whatever their priority (`policy`). A deadline met late records `met_at` on its breach rows; met late
before any escalation ran, it still leaves a breach row (level 1, `escalated_at` = the moment it was met) so
`/report sla` lists it. What happens when a deadline passes unmet is `handlers.services.sla` (escalation).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from handlers.settings import DomainSettings
from storage.db import insert_ignore
from storage.models import SlaBreach, Ticket
from storage.repos import tickets as repo
from storage.repos.tickets import OPEN, due_of, met_of


def policy(settings: DomainSettings, type_: str, priority: str) -> tuple[timedelta, timedelta, timedelta]:
    """(assign, contact, resolve) for a ticket: its priority's SLA; a complaint runs on the complaint clock
    (domain.md, seed 002 §3.3: the high-priority times) whatever its priority, or its own if that is stricter."""
    own = settings.sla(priority)
    if type_ != "complaint":
        return own
    return tuple(min(a, b) for a, b in zip(own, settings.sla("high"), strict=True))  # type: ignore[return-value]


def work_clocks(settings: DomainSettings, t: Ticket, now: datetime) -> dict[str, datetime]:
    """The first-contact and resolve deadlines, started at assignment."""
    _, contact, resolve = policy(settings, t.type, t.priority)
    return {"contact_due_at": now + contact, "resolve_due_at": now + resolve}


def unmet(t: Ticket, kind: str) -> bool:
    if t.status not in OPEN or met_of(t, kind) is not None:
        return False
    return kind == "assign" or t.assignee_id is not None


def meet(session: Session, t: Ticket, kind: str, now: datetime) -> None:
    """The deadline `kind` is met now: close its open breaches; a late meeting without one records it."""
    due = due_of(t, kind)
    if due is None:
        return
    rows = repo.breaches_of(session, ticket_id=t.id, kind=kind)
    for r in rows:
        if r.met_at is None:
            r.met_at = now
    if not rows and now > due:
        insert_breach(session, ticket_id=t.id, kind=kind, level=1, due_at=due, escalated_at=now, met_at=now)
    session.flush()


def insert_breach(session: Session, **values: object) -> bool:
    """Record a breach row once per ticket, kind and level: False when it was there already."""
    return insert_ignore(session, SlaBreach, conflict=["ticket_id", "kind", "level"], **values)
