"""Service tickets: creation, routing, assignment and the status machine (seed 002 §2.4, §3.3).

Status: pending (待分配, waiting for an assignee) → in_progress (assigned) → resolved → closed; reopen from
resolved or closed. The agent's Accept (确认处理) is a handling event, not a status: their first note, reply or
resolve records it implicitly. Every transition and note is a `TicketEvent`. The scheduler's ticket work
lives where it belongs: assignment in ticket_assign.py, `escalate_due` (sla.py), `auto_close_due` and `send_rating_reminders` (ratings.py),
`post_complaint_review` (reviews.py). Read queries are in `storage/repos/tickets.py`, views in `handlers/cards/`.
"""

from __future__ import annotations

from sqlalchemy import false, select, true, update
from sqlalchemy.sql.elements import ColumnElement

from handlers import inputs, notify
from handlers.cards.tickets import customer_message, rating_request, resolution_message
from handlers.context import Ctx
from handlers.errors import Conflict, Forbidden, InvalidInput, NotFound
from handlers.permissions import can_see_customer, customer_filter
from handlers.services import service_history, sla_clocks
from handlers.services import ticket_notify as tn
from storage import codes
from storage.db import lock_row
from storage.models import Contact, Customer, Ticket, TicketEvent
from storage.repos import tickets as repo
from storage.repos.service import LEADS as LEADS  # re-export: commands
from storage.repos.service import SERVICE_STAFF
from storage.repos.tickets import OPEN as OPEN  # re-export: commands

# ---------------------------------------------------------------- visibility


def visible_filter(ctx: Ctx) -> ColumnElement[bool]:
    if ctx.staff is None:
        return Ticket.customer_id == ctx.binding.customer_id if ctx.binding is not None else false()
    if ctx.staff.role in SERVICE_STAFF:
        return true()
    return Ticket.customer_id.in_(select(Customer.id).where(customer_filter(ctx)))


def visible_ids(ctx: Ctx, ids: list[int]) -> set[int]:
    return repo.visible_ids(ctx.session, ids=ids, where=visible_filter(ctx))


def get_ticket(ctx: Ctx, code: str) -> Ticket:
    code = inputs.key(code).upper()
    t = repo.get_by_code(ctx.session, code=code, where=visible_filter(ctx)) if code else None
    if t is None:
        raise NotFound("tk.not_found", code=code or "?")
    return t


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


def require_handler(ctx: Ctx, t: Ticket) -> None:
    """Notes, replies, resolve, close: the assignee, a supervisor or an admin."""
    s = ctx.staff
    if s is None or not (s.role in LEADS or (t.assignee_id is not None and t.assignee_id == s.id)):
        raise Forbidden("tk.not_handler", code=t.code)


def _auto_accept(ctx: Ctx, t: Ticket) -> None:
    if t.status == "in_progress" and ctx.staff is not None and ctx.staff.id == t.assignee_id:
        lock_row(ctx.session, Ticket, t.id)  # a concurrent accept or note must not accept a second time
        if not repo.is_accepted(ctx.session, ticket=t):
            add_event(ctx, t, "accepted")


def _contacted(ctx: Ctx, t: Ticket) -> None:
    if t.assignee_id is not None and t.first_contact_at is None and ctx.staff is not None:
        t.first_contact_at = ctx.now
        sla_clocks.meet(ctx.session, t, "contact", ctx.now)


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
               assign_due_at=ctx.now + sla_clocks.policy(ctx.settings, type_, priority)[0])
    ctx.session.add(t)
    ctx.session.flush()
    add_event(ctx, t, "created", to="pending")
    if routed(t):
        tn.post_to_channel(ctx, t, channels=ctx.channels)
    return t


# ---------------------------------------------------------------- transitions


def accept(ctx: Ctx, t: Ticket) -> None:
    if ctx.staff is None or t.assignee_id != ctx.staff.id:
        raise Forbidden("tk.accept_not_yours", code=t.code)
    if t.status != "in_progress":
        raise Conflict("tk.bad_transition", code=t.code, status=ctx.t(f"enum.status.{t.status}"))
    lock_row(ctx.session, Ticket, t.id)  # a double click accepts once
    if repo.is_accepted(ctx.session, ticket=t):
        raise Conflict("tk.already_accepted", code=t.code)
    add_event(ctx, t, "accepted")


def add_note(ctx: Ctx, t: Ticket, text: str) -> TicketEvent:
    require_handler(ctx, t)
    if t.status == "closed":
        raise Conflict("tk.closed_no_note", code=t.code)
    _auto_accept(ctx, t)
    ev = add_event(ctx, t, "note", text=text)
    _contacted(ctx, t)
    t.updated_at = ctx.now
    return ev


def reply_to_customer(ctx: Ctx, t: Ticket, text: str) -> int:
    """Message the bound customer through the bot; counts as contacting them. Returns chats reached."""
    require_handler(ctx, t)
    chats = repo.customer_chats(ctx.session, ticket=t)
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
    require_handler(ctx, t)
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
    sla_clocks.meet(ctx.session, t, "resolve", ctx.now)
    for b in repo.customer_chats(ctx.session, ticket=t):
        notify.to_binding(ctx.session, b, key=f"tk:{t.code}:resolved:{ev.id}:{b.id}",
                          reply=resolution_message(ctx, b, t), now=ctx.now)


def close(ctx: Ctx, t: Ticket, *, kind: str = "closed") -> None:
    """Close a resolved ticket (staff, the customer's confirmation, or auto-close) and ask for a rating."""
    if ctx.staff is not None:
        require_handler(ctx, t)
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
    chats = repo.customer_chats(ctx.session, ticket=t)
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
        require_handler(ctx, t)
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
