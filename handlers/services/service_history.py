"""A complaint leaves a trace on its customer (seed 002 §3.3): resolved, closed and rated each add one
follow-up history entry (method `service`), so the owner sees it on the card and in `/history`.

The entry is written in the unit of work of the ticket's own conditional transition (resolve, close, rate
each change the ticket once), so a replayed or repeated event adds nothing. It is credited to the staff
member who acted, or, when the customer or the scheduler did (confirm, auto-close, rating), to the ticket's
agent. It schedules nothing (no next follow-up), closes none of the sales follow-ups and is not a sales call:
`/report followups`, `last_followup_at` (cadence, pool return) leave it out.
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.i18n import t
from handlers.services import audit
from storage.models import Customer, FollowUp, Staff, Ticket

METHOD = "service"
EVENTS = ("resolved", "closed", "confirmed", "auto_closed", "rated")
_MAX_RESOLUTION = 500


def record_complaint_event(ctx: Ctx, ticket: Ticket, event: str) -> FollowUp | None:
    """Add the history entry for `event` of a complaint ticket; other ticket types leave none."""
    if ticket.type != "complaint" or event not in EVENTS:
        return None
    author_id = ctx.staff.id if ctx.staff is not None else ticket.assignee_id
    customer = ctx.session.get(Customer, ticket.customer_id)
    if author_id is None or customer is None:  # nobody from staff touched it: nobody to credit
        return None
    owner = ctx.session.get(Staff, customer.owner_id) if customer.owner_id else None
    lang = owner.lang if owner is not None else ctx.settings.default_lang
    resolution = (ticket.resolution or "").strip()
    if len(resolution) > _MAX_RESOLUTION:
        resolution = resolution[: _MAX_RESOLUTION - 1] + "…"
    content = t(lang, f"fu.service.{event}", code=ticket.code, n=ticket.rating, resolution=resolution or "—")
    fu = FollowUp(customer_id=customer.id, date=ctx.now, method=METHOD, content=content, staff_id=author_id,
                  assignee_id=customer.owner_id, created_at=ctx.now)
    ctx.session.add(fu)
    ctx.session.flush()
    audit.record(ctx.session, actor_id=ctx.staff.id if ctx.staff else None, action="create", entity="followup",
                 entity_id=fu.id, entity_code=customer.code, field="ticket", new=ticket.code, now=ctx.now)
    return fu
