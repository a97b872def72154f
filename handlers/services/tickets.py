"""Service tickets: creation, routing, assignment and the status machine (seed 002 §2.4, §3.3).

Status: pending (待分配, waiting for an assignee) → in_progress (assigned) → resolved → closed; reopen from
resolved or closed. The agent's Accept (确认处理) is a handling event, not a status: their first note, reply or
resolve records it implicitly. Every transition and note is a `TicketEvent`. The scheduler's ticket work
lives where it belongs: `escalate_due` (sla.py), `auto_close_due` and `send_rating_reminders` (ratings.py),
`post_complaint_review` (reviews.py).
"""

from __future__ import annotations

from sqlalchemy import false, func, select, true, update
from sqlalchemy.sql.elements import ColumnElement

from handlers import inputs, notify
from handlers.context import Ctx
from handlers.errors import Conflict, Forbidden, InvalidInput, NotFound
from handlers.permissions import can_see_customer, customer_filter
from handlers.services import service_history, sla
from handlers.services import ticket_notify as tn
from storage import codes
from storage.db import lock_row
from storage.models import ChatBinding, Contact, Customer, Staff, Ticket, TicketEvent

LEADS = ("supervisor", "admin")
SERVICE_STAFF = ("agent", "supervisor", "admin")
OPEN = ("pending", "in_progress")


# ---------------------------------------------------------------- visibility


def visible_filter(ctx: Ctx) -> ColumnElement[bool]:
    if ctx.staff is None:
        return Ticket.customer_id == ctx.binding.customer_id if ctx.binding is not None else false()
    if ctx.staff.role in SERVICE_STAFF:
        return true()
    return Ticket.customer_id.in_(select(Customer.id).where(customer_filter(ctx)))


def visible_ids(ctx: Ctx, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    return set(ctx.session.scalars(select(Ticket.id).where(Ticket.id.in_(ids), visible_filter(ctx))))


def get_ticket(ctx: Ctx, code: str) -> Ticket:
    code = inputs.key(code).upper()
    t = ctx.session.scalar(select(Ticket).where(Ticket.code == code, visible_filter(ctx))) if code else None
    if t is None:
        raise NotFound("tk.not_found", code=code or "?")
    return t


def open_tickets_for_customer(session, customer_id: int) -> list[Ticket]:  # noqa: ANN001
    """Open (not closed) tickets of a customer, newest first — for the customer card."""
    return list(session.scalars(select(Ticket).where(
        Ticket.customer_id == customer_id, Ticket.status != "closed").order_by(Ticket.id.desc())))


# ---------------------------------------------------------------- helpers


def add_event(ctx: Ctx, t: Ticket, kind: str, *, frm: str | None = None, to: str | None = None,
              text: str | None = None, staff_id: int | None = -1) -> TicketEvent:
    sid = (ctx.staff.id if ctx.staff else None) if staff_id == -1 else staff_id
    cid = ctx.binding.contact_id if ctx.staff is None and ctx.binding is not None else None
    ev = TicketEvent(ticket_id=t.id, kind=kind, staff_id=sid, contact_id=cid, from_status=frm, to_status=to,
                     text=text, at=ctx.now)
    ctx.session.add(ev)
    ctx.session.flush()
    return ev


def set_status(ctx: Ctx, t: Ticket, to: str, kind: str, *, text: str | None = None) -> TicketEvent:
    frm, t.status, t.updated_at = t.status, to, ctx.now
    return add_event(ctx, t, kind, frm=frm, to=to, text=text)


def routed(t: Ticket) -> bool:
    """High priority (any type) and every complaint go to the service channel at once."""
    return t.priority == "high" or t.type == "complaint"


def customer_chats(session, t: Ticket) -> list[ChatBinding]:  # noqa: ANN001
    rows = list(session.scalars(select(ChatBinding).where(ChatBinding.customer_id == t.customer_id)
                                .order_by(ChatBinding.id)))
    own = [b for b in rows if t.contact_id is not None and b.contact_id == t.contact_id]
    return own or rows


def agents_by_load(session) -> list[tuple[Staff, int]]:  # noqa: ANN001
    """Active agents, least loaded first, with their open-ticket counts."""
    load = dict(session.execute(select(Ticket.assignee_id, func.count()).where(
        Ticket.status.in_(OPEN), Ticket.assignee_id.is_not(None)).group_by(Ticket.assignee_id)).all())
    agents = session.scalars(select(Staff).where(Staff.role == "agent", Staff.active.is_(True))).all()
    return sorted(((a, load.get(a.id, 0)) for a in agents), key=lambda p: (p[1], p[0].name))


def _require_handler(ctx: Ctx, t: Ticket) -> None:
    """Notes, replies, resolve, close: the assignee, a supervisor or an admin."""
    s = ctx.staff
    if s is None or not (s.role in LEADS or (t.assignee_id is not None and t.assignee_id == s.id)):
        raise Forbidden("tk.not_handler", code=t.code)


def accepted(session, t: Ticket) -> bool:  # noqa: ANN001
    """Has the current assignee accepted (the last assignment event is followed by an acceptance)?"""
    last = session.scalar(select(TicketEvent.kind).where(
        TicketEvent.ticket_id == t.id, TicketEvent.kind.in_(("assigned", "reassigned", "accepted")))
        .order_by(TicketEvent.id.desc()).limit(1))
    return last == "accepted"


def _auto_accept(ctx: Ctx, t: Ticket) -> None:
    if t.status == "in_progress" and ctx.staff is not None and ctx.staff.id == t.assignee_id:
        lock_row(ctx.session, Ticket, t.id)  # a concurrent accept or note must not accept a second time
        if not accepted(ctx.session, t):
            add_event(ctx, t, "accepted")


def _contacted(ctx: Ctx, t: Ticket) -> None:
    if t.assignee_id is not None and t.first_contact_at is None and ctx.staff is not None:
        t.first_contact_at = ctx.now
        sla.meet(ctx.session, t, "contact", ctx.now)


# ---------------------------------------------------------------- create


def create_ticket(ctx: Ctx, *, customer: Customer, type_: str, priority: str, description: str,
                  contact_id: int | None = None) -> Ticket:
    if ctx.staff is not None:
        if not can_see_customer(ctx, customer):
            raise NotFound("lookup.not_found", query=customer.code)
    elif ctx.binding is None or ctx.binding.customer_id != customer.id:
        raise NotFound("lookup.not_found", query=customer.code)
    else:
        contact_id = ctx.binding.contact_id
    if contact_id is not None:
        c = ctx.session.get(Contact, contact_id)
        if c is None or c.customer_id != customer.id:
            raise InvalidInput("tk.bad_contact")
    description = description.strip()
    if not description:
        raise InvalidInput("tk.need_description")
    if len(description) > ctx.settings.max_text:
        raise InvalidInput("err.too_long", max=ctx.settings.max_text)
    year = ctx.now.astimezone(ctx.tz).year
    t = Ticket(code=codes.ticket_code(ctx.session, year=year), customer_id=customer.id, contact_id=contact_id,
               description=description, type=type_, priority=priority, status="pending",
               created_by_id=ctx.staff.id if ctx.staff else None, created_at=ctx.now, updated_at=ctx.now,
               assign_due_at=ctx.now + sla.policy(ctx.settings, type_, priority)[0])
    ctx.session.add(t)
    ctx.session.flush()
    add_event(ctx, t, "created", to="pending")
    if routed(t):
        tn.post_to_channel(ctx, t)
    return t


# ---------------------------------------------------------------- assign


def assign(ctx: Ctx, t: Ticket, assignee_id: int) -> Staff:
    """Assign a pending, unassigned ticket (supervisors and admins). Exactly one of concurrent clicks wins."""
    if ctx.staff is None or ctx.staff.role not in LEADS:
        raise Forbidden("tk.assign_forbidden")
    agent = ctx.session.get(Staff, assignee_id)
    if agent is None or not agent.active or agent.role not in SERVICE_STAFF:
        raise InvalidInput("tk.bad_assignee", ref=str(assignee_id))
    clocks = sla.work_clocks(ctx.settings, t, ctx.now)
    res = ctx.session.execute(
        update(Ticket).where(Ticket.id == t.id, Ticket.status == "pending", Ticket.assignee_id.is_(None))
        .values(status="in_progress", assignee_id=agent.id, assigned_at=ctx.now, updated_at=ctx.now, **clocks)
        .execution_options(synchronize_session=False))
    ctx.session.refresh(t)
    if res.rowcount != 1:
        _already_taken(ctx, t)
    ev = add_event(ctx, t, "assigned", frm="pending", to="in_progress", text=agent.name)
    sla.meet(ctx.session, t, "assign", ctx.now)
    tn.after_assign(ctx, t, agent, ev)
    return agent


def reassign(ctx: Ctx, t: Ticket, assignee_id: int) -> Staff:
    """Move an open, assigned ticket to another agent (supervisors and admins). Clocks keep running."""
    if ctx.staff is None or ctx.staff.role not in LEADS:
        raise Forbidden("tk.assign_forbidden")
    ctx.session.refresh(t, with_for_update=True)  # concurrent moves queue: each tells the agent it took it from
    if t.assignee_id is None:
        return assign(ctx, t, assignee_id)
    agent = ctx.session.get(Staff, assignee_id)
    if agent is None or not agent.active or agent.role not in SERVICE_STAFF:
        raise InvalidInput("tk.bad_assignee", ref=str(assignee_id))
    if t.status not in OPEN:
        raise Conflict("tk.bad_transition", code=t.code, status=ctx.t(f"enum.status.{t.status}"))
    if agent.id == t.assignee_id:
        raise Conflict("tk.same_assignee", code=t.code, who=agent.name)
    before = ctx.session.get(Staff, t.assignee_id)
    t.assignee_id, t.updated_at = agent.id, ctx.now
    ev = add_event(ctx, t, "reassigned", text=agent.name)
    tn.after_assign(ctx, t, agent, ev)
    tn.tell_moved_away(ctx, t, before, agent, ev)
    return agent


def _already_taken(ctx: Ctx, t: Ticket) -> None:
    if t.assignee_id is None:
        raise Conflict("tk.bad_transition", code=t.code, status=ctx.t(f"enum.status.{t.status}"))
    ev = ctx.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == t.id, TicketEvent.kind == "assigned")
                            .order_by(TicketEvent.id.desc()))
    who = ctx.session.get(Staff, t.assignee_id)
    by = ctx.session.get(Staff, ev.staff_id) if ev and ev.staff_id else None
    raise Conflict("tk.already_assigned", code=t.code, who=who.name if who else "?",
                   by=by.name if by else "?", at=ctx.fmt_dt(t.assigned_at))


# ---------------------------------------------------------------- transitions


def accept(ctx: Ctx, t: Ticket) -> None:
    if ctx.staff is None or t.assignee_id != ctx.staff.id:
        raise Forbidden("tk.accept_not_yours", code=t.code)
    if t.status != "in_progress":
        raise Conflict("tk.bad_transition", code=t.code, status=ctx.t(f"enum.status.{t.status}"))
    lock_row(ctx.session, Ticket, t.id)  # a double click accepts once
    if accepted(ctx.session, t):
        raise Conflict("tk.already_accepted", code=t.code)
    add_event(ctx, t, "accepted")


def add_note(ctx: Ctx, t: Ticket, text: str) -> TicketEvent:
    _require_handler(ctx, t)
    if t.status == "closed":
        raise Conflict("tk.closed_no_note", code=t.code)
    _auto_accept(ctx, t)
    ev = add_event(ctx, t, "note", text=text)
    _contacted(ctx, t)
    t.updated_at = ctx.now
    return ev


def reply_to_customer(ctx: Ctx, t: Ticket, text: str) -> int:
    """Message the bound customer through the bot; counts as contacting them. Returns chats reached."""
    from handlers.services.ticket_views import customer_message

    _require_handler(ctx, t)
    chats = customer_chats(ctx.session, t)
    if not chats:
        raise Conflict("tk.no_chat", code=t.code)
    _auto_accept(ctx, t)
    ev = add_event(ctx, t, "contacted", text=text)
    for b in chats:
        notify.to_binding(ctx.session, b, key=f"tk:{t.code}:reply:{ev.id}:{b.id}",
                          reply=customer_message(ctx, b, t, text), now=ctx.now)
    _contacted(ctx, t)
    t.updated_at = ctx.now
    return len(chats)


def resolve(ctx: Ctx, t: Ticket, text: str) -> None:
    from handlers.services.ticket_views import resolution_message

    _require_handler(ctx, t)
    if not text.strip():
        raise InvalidInput("tk.need_resolution")
    _auto_accept(ctx, t)
    if t.status != "in_progress":
        raise Conflict("tk.bad_transition", code=t.code, status=ctx.t(f"enum.status.{t.status}"))
    # conditional, like close: a double submit resolves once and tells the customer once
    res = ctx.session.execute(
        update(Ticket).where(Ticket.id == t.id, Ticket.status == "in_progress")
        .values(status="resolved", resolution=text.strip(), resolved_at=ctx.now, updated_at=ctx.now)
        .execution_options(synchronize_session=False))
    ctx.session.refresh(t)
    if res.rowcount != 1:
        raise Conflict("tk.bad_transition", code=t.code, status=ctx.t(f"enum.status.{t.status}"))
    _contacted(ctx, t)  # the resolution is a handling note (and goes to the customer): contact is met too
    ev = add_event(ctx, t, "resolved", frm="in_progress", to="resolved", text=t.resolution)
    service_history.record_complaint_event(ctx, t, "resolved")
    sla.meet(ctx.session, t, "resolve", ctx.now)
    for b in customer_chats(ctx.session, t):
        notify.to_binding(ctx.session, b, key=f"tk:{t.code}:resolved:{ev.id}:{b.id}",
                          reply=resolution_message(ctx, b, t), now=ctx.now)


def close(ctx: Ctx, t: Ticket, *, kind: str = "closed") -> None:
    """Close a resolved ticket (staff, the customer's confirmation, or auto-close) and ask for a rating."""
    from handlers.services.ticket_views import rating_request

    if ctx.staff is not None:
        _require_handler(ctx, t)
    if t.status == "closed":
        raise Conflict("tk.already_closed", code=t.code)
    if t.status != "resolved":
        key = "tk.close_needs_resolved" if ctx.staff is not None else "tk.cust_not_resolved"
        raise Conflict(key, code=t.code, status=ctx.t(f"enum.status.{t.status}"))
    # conditional: of a customer's Confirm, a staff Close and the auto-close at the same moment, one closes
    # (and asks for the rating); the others see it closed
    res = ctx.session.execute(
        update(Ticket).where(Ticket.id == t.id, Ticket.status == "resolved")
        .values(status="closed", closed_at=ctx.now, updated_at=ctx.now)
        .execution_options(synchronize_session=False))
    ctx.session.refresh(t)
    if res.rowcount != 1:
        raise Conflict("tk.already_closed", code=t.code)
    add_event(ctx, t, kind, frm="resolved", to="closed")
    service_history.record_complaint_event(ctx, t, kind)
    if t.rating is not None:
        return
    chats = customer_chats(ctx.session, t)
    for b in chats:
        notify.to_binding(ctx.session, b, key=f"tk:{t.code}:rate:{t.closed_at.isoformat()}:{b.id}",
                          reply=rating_request(ctx, b, t), now=ctx.now)
    if chats:
        t.rating_requested_at = ctx.now


def customer_says(ctx: Ctx, t: Ticket, text: str) -> None:
    """A bound customer adds a message to their own open ticket; the assignee gets it directly."""
    if ctx.binding is None or ctx.binding.customer_id != t.customer_id:
        raise NotFound("tk.not_found", code=t.code)
    if t.status == "closed":
        raise Conflict("tk.closed_no_note", code=t.code)
    if not text.strip():
        raise InvalidInput("tk.need_description")
    if len(text.strip()) > ctx.settings.max_text:
        raise InvalidInput("err.too_long", max=ctx.settings.max_text)
    ev = add_event(ctx, t, "customer_msg", text=text.strip())
    t.updated_at = ctx.now
    if t.assignee_id:
        tn.tell_assignee(ctx, t, "tk.dm_customer_msg", key=f"tk:{t.code}:cmsg:{ev.id}", text=text.strip())


def confirm(ctx: Ctx, t: Ticket) -> None:
    """The customer confirms the resolution: the ticket closes."""
    if ctx.binding is None or ctx.binding.customer_id != t.customer_id:
        raise NotFound("tk.not_found", code=t.code)
    close(ctx, t, kind="confirmed")


def reopen(ctx: Ctx, t: Ticket, reason: str | None) -> None:
    if ctx.staff is not None:
        _require_handler(ctx, t)
    elif ctx.binding is None or ctx.binding.customer_id != t.customer_id:
        raise NotFound("tk.not_found", code=t.code)
    if t.status not in ("resolved", "closed"):
        raise Conflict("tk.reopen_not_done", code=t.code, status=ctx.t(f"enum.status.{t.status}"))
    frm, to = t.status, "in_progress" if t.assignee_id else "pending"
    res = ctx.session.execute(  # conditional: a double click reopens once
        update(Ticket).where(Ticket.id == t.id, Ticket.status == frm)
        .values(status=to, resolved_at=None, closed_at=None, updated_at=ctx.now)
        .execution_options(synchronize_session=False))
    ctx.session.refresh(t)
    if res.rowcount != 1:
        raise Conflict("tk.reopen_not_done", code=t.code, status=ctx.t(f"enum.status.{t.status}"))
    add_event(ctx, t, "reopened", frm=frm, to=to, text=reason or None)
    if ctx.staff is None and t.assignee_id:
        tn.tell_assignee(ctx, t, "tk.dm_reopened", key=f"tk:{t.code}:reopened:{ctx.now.isoformat()}",
                         reason=reason or "—")
