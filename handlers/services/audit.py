"""The audit log: who changed what, when, from what to what (domain.md: every change is audited).

`record(...)` writes one `AuditLog` row in the caller's unit of work; anybody who changes a customer,
follow-up, opportunity or ticket field calls it. `audit_view(ctx, customer)` shows a customer's entries
(and those of its opportunities) to managers and admins.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlmodel import Session

from handlers.context import Ctx
from handlers.errors import Forbidden, NotFound
from handlers.paging import page_of
from handlers.permissions import can_see_customer
from handlers.views import ListItem, Reply
from storage.models import AuditLog, Customer, FollowUp, Opportunity, Staff, Ticket

_MAX = 200


def _s(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, list | tuple | set):
        return ",".join(str(x) for x in v)
    return str(v)


def record(session: Session, *, actor_id: int | None, action: str, entity: str, entity_id: int,
           entity_code: str | None = None, field: str | None = None, old: object = None, new: object = None,
           now: datetime) -> AuditLog:
    """Write one audit entry (values are stored as text; lists are comma-joined)."""
    row = AuditLog(at=now, actor_id=actor_id, action=action[:30], entity=entity[:30], entity_id=entity_id,
                   entity_code=entity_code, field=field[:50] if field else None, old=_s(old), new=_s(new))
    session.add(row)
    return row


def entries_for_customer(session: Session, customer: Customer) -> list[AuditLog]:
    """Newest first: the customer's own entries and those of its opportunities, follow-ups and tickets."""
    opp_ids = select(Opportunity.id).where(Opportunity.customer_id == customer.id)
    fu_ids = select(FollowUp.id).where(FollowUp.customer_id == customer.id)
    tk_ids = select(Ticket.id).where(Ticket.customer_id == customer.id)
    q = (select(AuditLog)
         .where(or_(and_(AuditLog.entity == "customer", AuditLog.entity_id == customer.id),
                    and_(AuditLog.entity == "opportunity", AuditLog.entity_id.in_(opp_ids)),
                    and_(AuditLog.entity == "followup", AuditLog.entity_id.in_(fu_ids)),
                    and_(AuditLog.entity == "ticket", AuditLog.entity_id.in_(tk_ids))))
         .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(_MAX))
    return list(session.scalars(q))


def audit_view(ctx: Ctx, customer: Customer, page: int = 1) -> Reply:
    """The audit trail of a customer, for managers (their team's customers) and admins."""
    if not can_see_customer(ctx, customer):
        raise NotFound("err.not_found")
    if ctx.role not in ("manager", "admin"):
        raise Forbidden("audit.forbidden")
    rows = entries_for_customer(ctx.session, customer)
    names = dict(ctx.session.execute(select(Staff.id, Staff.name)).all())

    def item(a: AuditLog) -> ListItem:
        who = names.get(a.actor_id) or ctx.t("audit.system")
        what = ctx.t(f"audit.action.{a.action}") if _known(a.action) else a.action
        kind = ctx.t(f"audit.entity.{a.entity}") if a.entity in _ENTITIES else a.entity
        target = f"{kind} {a.entity_code or '#' + str(a.entity_id)}"
        if a.field:
            detail = ctx.t("audit.change", field=a.field, old=a.old if a.old not in (None, "") else "—",
                           new=a.new if a.new not in (None, "") else "—")
        else:
            detail = a.new or ""
        return ListItem(f"{ctx.fmt_dt(a.at)} · {who} · {what} · {target}", detail)

    lp = page_of(ctx, rows, title=ctx.t("audit.title", code=customer.code, name=customer.name), page=page,
                 cmd=f"/customer audit {customer.code}", item=item, empty_key="audit.empty")
    return Reply(views=(lp,))


_ACTIONS = ("create", "update", "handover", "claim", "pool_return", "approve", "reject", "stage", "purchase",
            "request")


_ENTITIES = ("customer", "opportunity", "followup", "ticket", "staff")


def _known(action: str) -> bool:
    return action in _ACTIONS
