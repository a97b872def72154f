"""Read queries on tickets, their handling log and their SLA breaches, each written once.

Visibility is the caller's business: queries that a viewer's permissions narrow take a `where` clause built in
`handlers/services/tickets.py` (`visible_filter`). The status words and deadline kinds live here because the
queries filter on them; `due_of`/`met_of` read a ticket's deadline and the moment it was met.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from storage.models import ChatBinding, SlaBreach, Ticket, TicketEvent

OPEN = ("pending", "in_progress")
KINDS = ("assign", "contact", "resolve")
ASSIGNMENT_EVENTS = ("assigned", "reassigned", "accepted")


def due_of(t: Ticket, kind: str) -> datetime | None:
    return getattr(t, f"{kind}_due_at")


def met_of(t: Ticket, kind: str) -> datetime | None:
    return {"assign": t.assigned_at, "contact": t.first_contact_at, "resolve": t.resolved_at}[kind]


def get_by_code(session: Session, *, code: str, where: ColumnElement[bool]) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.code == code, where))


def visible_ids(session: Session, *, ids: list[int], where: ColumnElement[bool]) -> set[int]:
    if not ids:
        return set()
    return set(session.scalars(select(Ticket.id).where(Ticket.id.in_(ids), where)))


def list_open_for_customer(session: Session, customer_id: int) -> list[Ticket]:
    """Open (not closed) tickets of a customer, newest first — for the customer card and the customer's chat."""
    return list(session.scalars(select(Ticket).where(
        Ticket.customer_id == customer_id, Ticket.status != "closed").order_by(Ticket.id.desc())))


def customer_chats(session: Session, *, ticket: Ticket) -> list[ChatBinding]:
    """The chats bound to the ticket's contact, or, when none is, every chat of its customer."""
    rows = list(session.scalars(select(ChatBinding).where(ChatBinding.customer_id == ticket.customer_id)
                                .order_by(ChatBinding.id)))
    own = [b for b in rows if ticket.contact_id is not None and b.contact_id == ticket.contact_id]
    return own or rows


def is_accepted(session: Session, *, ticket: Ticket) -> bool:
    """Has the current assignee accepted (the last assignment event is followed by an acceptance)?"""
    last = session.scalar(select(TicketEvent.kind).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind.in_(ASSIGNMENT_EVENTS))
        .order_by(TicketEvent.id.desc()).limit(1))
    return last == "accepted"


def last_event(session: Session, *, ticket_id: int, kind: str) -> TicketEvent | None:
    return session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == kind)
                          .order_by(TicketEvent.id.desc()).limit(1))


def list_events(session: Session, *, ticket_id: int, exclude: tuple[str, ...] = (), limit: int) -> list[TicketEvent]:
    """The last `limit` events of a ticket, oldest first."""
    q = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
    if exclude:
        q = q.where(TicketEvent.kind.not_in(exclude))
    return list(session.scalars(q.order_by(TicketEvent.id.desc()).limit(limit)))[::-1]


def queue_clause(queue: str, *, staff_id: int | None, now: datetime) -> ColumnElement[bool]:
    """The tickets of a `/tickets` queue: mine, unassigned, open, breaching, or all."""
    if queue == "mine":
        return and_(Ticket.assignee_id == (staff_id if staff_id is not None else -1), Ticket.status != "closed")
    if queue == "unassigned":
        return and_(Ticket.status == "pending", Ticket.assignee_id.is_(None))
    if queue == "open":  # not resolved or closed: for reps, their customers' tickets in progress
        return Ticket.status.in_(OPEN)
    if queue == "breaching":
        return and_(Ticket.status.in_(OPEN), or_(
            and_(Ticket.assigned_at.is_(None), Ticket.assign_due_at <= now),
            and_(Ticket.first_contact_at.is_(None), Ticket.contact_due_at <= now),
            Ticket.resolve_due_at <= now))
    return Ticket.id.is_not(None)


def list_where(session: Session, *, where: list[ColumnElement[bool]], limit: int = 500) -> list[Ticket]:
    """Tickets matching every clause, newest first."""
    return list(session.scalars(select(Ticket).where(*where).order_by(Ticket.id.desc()).limit(limit)))


# ---------------------------------------------------------------- due work (the scheduler's jobs)


def list_past_a_deadline(session: Session, *, now: datetime) -> list[Ticket]:
    """Open tickets with at least one deadline at or before `now`."""
    return list(session.scalars(select(Ticket).where(Ticket.status.in_(OPEN), or_(
        Ticket.assign_due_at <= now, Ticket.contact_due_at <= now, Ticket.resolve_due_at <= now))
        .order_by(Ticket.id)))


def list_resolved_before(session: Session, *, before: datetime) -> list[Ticket]:
    return list(session.scalars(select(Ticket).where(Ticket.status == "resolved", Ticket.resolved_at <= before)))


def list_rating_reminders_due(session: Session, *, closed_before: datetime) -> list[Ticket]:
    """Closed, unrated tickets whose rating was asked for and not yet reminded of."""
    return list(session.scalars(select(Ticket).where(
        Ticket.status == "closed", Ticket.rating.is_(None), Ticket.rating_requested_at.is_not(None),
        Ticket.rating_reminded_at.is_(None), Ticket.closed_at <= closed_before)))


# ---------------------------------------------------------------- SLA breaches


def breaches_of(session: Session, *, ticket_id: int, kind: str) -> list[SlaBreach]:
    return list(session.scalars(select(SlaBreach).where(SlaBreach.ticket_id == ticket_id, SlaBreach.kind == kind)))


def list_breaches(session: Session, *, start: datetime, end: datetime,
                  with_open: bool) -> list[tuple[SlaBreach, Ticket]]:
    """Breaches that fell due in [start, end) and, `with_open`, every breach still open; the open ones first."""
    in_period = and_(SlaBreach.due_at >= start, SlaBreach.due_at < end)
    still_open = and_(SlaBreach.met_at.is_(None), Ticket.status.in_(OPEN))
    return [tuple(r) for r in session.execute(
        select(SlaBreach, Ticket).join(Ticket, Ticket.id == SlaBreach.ticket_id)
        .where(or_(in_period, still_open) if with_open else in_period)
        .order_by(SlaBreach.met_at.is_not(None), SlaBreach.due_at, SlaBreach.level)).all()]


def list_first_breaches(session: Session, *, start: datetime, end: datetime) -> list[tuple[SlaBreach, str]]:
    """Level-1 breaches that fell due in [start, end), with their ticket's code, in due order."""
    return [tuple(r) for r in session.execute(
        select(SlaBreach, Ticket.code).join(Ticket, Ticket.id == SlaBreach.ticket_id)
        .where(SlaBreach.level == 1, SlaBreach.due_at >= start, SlaBreach.due_at < end)
        .order_by(SlaBreach.due_at)).all()]


# ---------------------------------------------------------------- reports and the weekly review


def list_closed_between(session: Session, *, start: datetime, end: datetime) -> list[Ticket]:
    return list(session.scalars(select(Ticket).where(
        Ticket.status == "closed", Ticket.closed_at >= start, Ticket.closed_at < end)))


def list_created_between(session: Session, *, start: datetime, end: datetime) -> list[Ticket]:
    return list(session.scalars(select(Ticket).where(Ticket.created_at >= start, Ticket.created_at < end)
                                .order_by(Ticket.id)))


def list_low_rated_between(session: Session, *, start: datetime, end: datetime, at_most: int) -> list[Ticket]:
    return list(session.scalars(select(Ticket).where(
        Ticket.rated_at >= start, Ticket.rated_at < end, Ticket.rating <= at_most).order_by(Ticket.rating, Ticket.id)))


def list_open_complaints(session: Session, *, created_before: datetime) -> list[Ticket]:
    return list(session.scalars(select(Ticket).where(
        Ticket.type == "complaint", Ticket.status != "closed", Ticket.created_at < created_before)
        .order_by(Ticket.id)))
