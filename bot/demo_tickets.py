"""Demo service tickets in every status, with their handling log, SLA deadlines and ratings."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot import demo_words as W
from handlers.services.sla import policy
from storage import codes
from storage.models import Contact, Customer, Staff, Ticket, TicketEvent

if TYPE_CHECKING:
    from bot.demo_data import Demo

TICKETS = 64
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def add_tickets(d: Demo) -> int:
    plans: list[tuple[datetime, str, str | None]] = [(d.now - 25 * MIN, "pending", "complaint")]  # breaching
    for _ in range(TICKETS - 1):
        status = d.pick({"closed": 45, "resolved": 12, "in_progress": 28, "pending": 15})
        plans.append((d.now, status, None))
    agents = [s for s in d.staff.values() if s.role == "agent"]
    sups = [s for s in d.staff.values() if s.role == "supervisor"]
    made = [_plan(d, status, kind, when if kind else None) for when, status, kind in plans]
    made.sort(key=lambda m: m["created"])
    for m in made:
        _ticket(d, m, d.rng.choice(agents), d.rng.choice(sups))
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


def _ticket(d: Demo, m: dict, agent: Staff, sup: Staff) -> None:
    rng, st = d.rng, d.st
    c: Customer = m["customer"]
    contact: Contact = m["contact"]
    created: datetime = m["created"]
    sla = policy(st, m["type"], m["priority"])
    t = Ticket(code=codes.ticket_code(d.s, year=created.astimezone(d.tz).year), customer_id=c.id,
               contact_id=contact.id, description=rng.choice(W.TICKETS[m["type"]]), type=m["type"],
               priority=m["priority"], status=m["status"], created_by_id=rng.choice((None, agent.id)),
               created_at=created, updated_at=created, assign_due_at=created + sla[0])
    d.s.add(t)
    d.s.flush()
    ev = [TicketEvent(ticket_id=t.id, kind="created", staff_id=t.created_by_id,
                      contact_id=None if t.created_by_id else contact.id, to_status="pending", at=created)]
    if "assigned" in m:
        t.assignee_id, t.assigned_at = agent.id, m["assigned"]
        # the first-contact and resolve clocks start at assignment (handlers/services/sla.py)
        t.contact_due_at, t.resolve_due_at = m["assigned"] + sla[1], m["assigned"] + sla[2]
        ev.append(TicketEvent(ticket_id=t.id, kind="assigned", staff_id=sup.id, from_status="pending",
                              to_status="in_progress", text=agent.name, at=m["assigned"]))
    if "contacted" in m:
        t.first_contact_at = m["contacted"]
        ev.append(TicketEvent(ticket_id=t.id, kind="contacted", staff_id=agent.id, contact_id=contact.id,
                              text="电话联系客户，确认了问题细节。", at=m["contacted"]))
    if "resolved" in m:
        t.resolved_at, t.resolution = m["resolved"], rng.choice(W.RESOLUTIONS)
        ev.append(TicketEvent(ticket_id=t.id, kind="resolved", staff_id=agent.id, from_status="in_progress",
                              to_status="resolved", text=t.resolution, at=m["resolved"]))
    if "closed" in m:
        _close(d, t, m["closed"], ev)
    t.updated_at = max(e.at for e in ev)
    d.later.extend(ev)


def _close(d: Demo, t: Ticket, at: datetime, ev: list[TicketEvent]) -> None:
    t.closed_at = t.rating_requested_at = at
    ev.append(TicketEvent(ticket_id=t.id, kind="closed", from_status="resolved", to_status="closed", at=at))
    if d.rng.random() < 0.8:
        t.rating = int(d.pick({"5": 50, "4": 30, "3": 10, "2": 6, "1": 4}))
        t.rated_at = min(at + d.rng.randint(10, 720) * MIN, d.now - MIN)
        if t.rating < 5 or d.rng.random() < 0.3:
            t.rating_comment = d.rng.choice(W.RATING_COMMENTS[t.rating])
        ev.append(TicketEvent(ticket_id=t.id, kind="rated", contact_id=t.contact_id, text=t.rating_comment,
                              at=t.rated_at))
