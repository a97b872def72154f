"""Assigning a ticket (supervisors and admins): a pending ticket to an agent (exactly one of concurrent clicks
wins; the channel post shows the outcome) and moving an assigned one to another agent."""

from __future__ import annotations

from sqlalchemy import update

from handlers.context import Ctx
from handlers.errors import Conflict, Forbidden, InvalidInput
from handlers.services import sla_clocks
from handlers.services import ticket_notify as tn
from handlers.services.tickets import add_event
from storage.models import Staff, Ticket
from storage.repos import tickets as repo
from storage.repos.service import LEADS, SERVICE_STAFF
from storage.repos.tickets import OPEN


def assign(ctx: Ctx, t: Ticket, assignee_id: int) -> Staff:
    """Assign a pending, unassigned ticket (supervisors and admins). Exactly one of concurrent clicks wins."""
    if ctx.staff is None or ctx.staff.role not in LEADS:
        raise Forbidden("tk.assign_forbidden")
    agent = ctx.session.get(Staff, assignee_id)
    if agent is None or not agent.active or agent.role not in SERVICE_STAFF:
        raise InvalidInput("tk.bad_assignee", ref=str(assignee_id))
    clocks = sla_clocks.work_clocks(ctx.settings, t, ctx.now)
    res = ctx.session.execute(
        update(Ticket).where(Ticket.id == t.id, Ticket.status == "pending", Ticket.assignee_id.is_(None))
        .values(status="in_progress", assignee_id=agent.id, assigned_at=ctx.now, updated_at=ctx.now, **clocks)
        .execution_options(synchronize_session=False))
    ctx.session.refresh(t)
    if res.rowcount != 1:
        _already_taken(ctx, t)
    ev = add_event(ctx, t, "assigned", frm="pending", to="in_progress", text=agent.name)
    sla_clocks.meet(ctx.session, t, "assign", ctx.now)
    tn.after_assign(ctx, t, agent, ev, channels=ctx.channels)
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
    tn.after_assign(ctx, t, agent, ev, channels=ctx.channels)
    tn.tell_moved_away(ctx, t, before, agent, ev)
    return agent


def _already_taken(ctx: Ctx, t: Ticket) -> None:
    if t.assignee_id is None:
        raise Conflict("tk.bad_transition", code=t.code, status=ctx.t(f"enum.status.{t.status}"))
    ev = repo.last_event(ctx.session, ticket_id=t.id, kind="assigned")
    who = ctx.session.get(Staff, t.assignee_id)
    by = ctx.session.get(Staff, ev.staff_id) if ev and ev.staff_id else None
    raise Conflict("tk.already_assigned", code=t.code, who=who.name if who else "?",
                   by=by.name if by else "?", at=ctx.fmt_dt(t.assigned_at))
