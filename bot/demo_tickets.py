"""Demo service tickets in every status, with their handling log, SLA deadlines and ratings.

Each ticket is created as it was opened (pending); what happened to it later (assigned, contacted, resolved,
closed and rated) are `Step`s that `bot.demo_sla.replay` applies in time order with the SLA watch between."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot import demo_words as W
from bot.demo_sla import Step, replay
from handlers.services import sla
from handlers.services.sla import policy, work_clocks
from storage import codes
from storage.models import Contact, Customer, Staff, Ticket, TicketEvent

if TYPE_CHECKING:
    from bot.demo_data import Demo

TICKETS = 64
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def add_tickets(d: Demo, *, channels: dict[str, str]) -> int:
    """The tickets, created as they were opened, then lived through in time order with the SLA watch (demo_sla)."""
    plans: list[tuple[datetime, str, str | None]] = [(d.now - 25 * MIN, "pending", "complaint")]  # breaching
    for _ in range(TICKETS - 1):
        status = d.pick({"closed": 45, "resolved": 12, "in_progress": 28, "pending": 15})
        plans.append((d.now, status, None))
    agents = [s for s in d.staff.values() if s.role == "agent"]
    sups = [s for s in d.staff.values() if s.role == "supervisor"]
    made = [_plan(d, status, kind, when if kind else None) for when, status, kind in plans]
    made.sort(key=lambda m: m["created"])
    steps: list[Step] = []
    for m in made:
        steps += _ticket(d, m, d.rng.choice(agents), d.rng.choice(sups))
    replay(d, steps, channels=channels)
    return len(made)


def _plan(d: Demo, status: str, kind: str | None, created: datetime | None) -> dict:
    rng = d.rng
    c, contact = rng.choice(d.deals)
    m: dict = {"status": status, "customer": c, "contact": contact,
               "type": kind or d.pick({"consult": 30, "complaint": 25, "suggestion": 10, "support": 35})}
    m["priority"] = "high" if kind else d.pick(
        {"high": 5, "medium": 4, "low": 1} if m["type"] == "complaint" else {"high": 1, "medium": 5, "low": 3})
    assign, contact_d = rng.randint(2, 25) * MIN, rng.randint(5, 60) * MIN
    resolve, close = rng.randint(60, 1800) * MIN, rng.randint(60, 1440) * MIN
    if status == "pending":
        m["created"] = created or d.now - rng.randint(3, 50) * MIN
    elif status == "in_progress":
        m["created"] = d.now - rng.randint(60, 72 * 60) * MIN
        m["assigned"] = m["created"] + assign
        if m["created"] + assign + contact_d < d.now:
            m["contacted"] = m["assigned"] + contact_d
    else:
        if status == "resolved":  # resolved in the last 20 hours: not auto-closed yet
            m["resolved"] = d.now - rng.randint(10, 20 * 60) * MIN
        else:
            age = (d.now - c.created_at).days - 3  # after the customer was created
            m["resolved"] = d.now - rng.randint(3, max(3, min(90, age))) * timedelta(days=1)
            m["closed"] = m["resolved"] + close
        m["contacted"] = m["resolved"] - resolve
        m["assigned"] = m["contacted"] - contact_d
        m["created"] = m["assigned"] - assign
    return m


def _ticket(d: Demo, m: dict, agent: Staff, sup: Staff) -> list[Step]:
    """The ticket as it was opened (pending), and the steps that happened to it later."""
    rng = d.rng
    c: Customer = m["customer"]
    contact: Contact = m["contact"]
    created: datetime = m["created"]
    t = Ticket(code=codes.ticket_code(d.s, year=created.astimezone(d.tz).year), customer_id=c.id,
               contact_id=contact.id, description=rng.choice(W.TICKETS[m["type"]]), type=m["type"],
               priority=m["priority"], status="pending", created_by_id=rng.choice((None, agent.id)),
               created_at=created, updated_at=created,
               assign_due_at=created + policy(d.st, m["type"], m["priority"])[0])
    d.s.add(t)
    d.s.flush()
    d.later.append(TicketEvent(ticket_id=t.id, kind="created", staff_id=t.created_by_id,
                               contact_id=None if t.created_by_id else contact.id, to_status="pending", at=created))
    steps: list[Step] = [Step(t, t.created_at, lambda at: None)]  # opened: the assign clock runs
    if "assigned" in m:
        steps.append(Step(t, m["assigned"], lambda at: _assign(d, t, agent, sup, at)))
    if "contacted" in m:
        steps.append(Step(t, m["contacted"], lambda at: _contact(d, t, agent, at)))
    if "resolved" in m:
        resolution = rng.choice(W.RESOLUTIONS)
        steps.append(Step(t, m["resolved"], lambda at: _resolve(d, t, agent, resolution, at)))
    if "closed" in m:
        steps.append(Step(t, m["closed"], lambda at: _close(d, t, at)))
    return steps


def _event(d: Demo, t: Ticket, ev: TicketEvent) -> None:
    t.updated_at = max(t.updated_at, ev.at)
    d.later.append(ev)


def _assign(d: Demo, t: Ticket, agent: Staff, sup: Staff, at: datetime) -> None:
    t.assignee_id, t.assigned_at, t.status = agent.id, at, "in_progress"
    for k, v in work_clocks(d.st, t, at).items():  # the contact and resolve clocks start at assignment
        setattr(t, k, v)
    _event(d, t, TicketEvent(ticket_id=t.id, kind="assigned", staff_id=sup.id, from_status="pending",
                             to_status="in_progress", text=agent.name, at=at))
    sla.meet(d.s, t, "assign", at)


def _contact(d: Demo, t: Ticket, agent: Staff, at: datetime) -> None:
    t.first_contact_at = at
    _event(d, t, TicketEvent(ticket_id=t.id, kind="contacted", staff_id=agent.id, contact_id=t.contact_id,
                             text="电话联系客户，确认了问题细节。", at=at))
    sla.meet(d.s, t, "contact", at)


def _resolve(d: Demo, t: Ticket, agent: Staff, resolution: str, at: datetime) -> None:
    t.resolved_at, t.resolution, t.status = at, resolution, "resolved"
    _event(d, t, TicketEvent(ticket_id=t.id, kind="resolved", staff_id=agent.id, from_status="in_progress",
                             to_status="resolved", text=resolution, at=at))
    sla.meet(d.s, t, "resolve", at)


def _close(d: Demo, t: Ticket, at: datetime) -> None:
    t.closed_at = t.rating_requested_at = at
    t.status = "closed"
    _event(d, t, TicketEvent(ticket_id=t.id, kind="closed", from_status="resolved", to_status="closed", at=at))
    if d.rng.random() < 0.8:
        t.rating = int(d.pick({"5": 50, "4": 30, "3": 10, "2": 6, "1": 4}))
        t.rated_at = min(at + d.rng.randint(10, 720) * MIN, d.now - MIN)
        if t.rating < 5 or d.rng.random() < 0.3:
            t.rating_comment = d.rng.choice(W.RATING_COMMENTS[t.rating])
        _event(d, t, TicketEvent(ticket_id=t.id, kind="rated", contact_id=t.contact_id, text=t.rating_comment,
                                 at=t.rated_at))
