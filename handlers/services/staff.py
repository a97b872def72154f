"""Staff-side ownership changes: hand all of a rep's work to another, deactivate a member of staff.

Managers act on their team (`is_manager_of`), admins on everyone. A handover moves, in the caller's one
unit of work: the customers FROM owns, FROM's open opportunities and the open follow-ups FROM owes (their
`assignee_id`; who made each call, `staff_id`, never changes).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update

from handlers import notify
from handlers.cards import customers as cards
from handlers.context import Ctx
from handlers.errors import Conflict, Forbidden, InvalidInput
from handlers.permissions import is_manager_of
from handlers.services import audit
from handlers.services.followup_owed import move_owed
from storage.models import Customer, FollowUp, Opportunity, Staff
from storage.repos import customers as customer_repo
from storage.repos import opportunities as opp_repo
from storage.repos import staff as staff_repo

SALES_ROLES = ("rep", "manager")


@dataclass(frozen=True)
class HandoverResult:
    customers: int
    opportunities: int
    followups: int


def may_manage(ctx: Ctx, staff: Staff) -> bool:
    if ctx.role == "admin":
        return True
    return ctx.role == "manager" and staff.role in ("rep", "agent") and is_manager_of(ctx, staff.id) \
        and staff.id != ctx.staff.id


def handover(ctx: Ctx, src: Staff, dst: Staff) -> HandoverResult:
    if ctx.role not in ("manager", "admin"):
        raise Forbidden("own.err.managers_only")
    if src.id == dst.id:
        raise InvalidInput("own.err.same")
    if not dst.active or dst.role not in SALES_ROLES + ("admin",):
        raise InvalidInput("own.err.target", name=dst.name)
    if ctx.role == "manager" and not (is_manager_of(ctx, src.id) and is_manager_of(ctx, dst.id)):
        raise Forbidden("own.err.not_team")
    s, now = ctx.session, ctx.now
    custs = customer_repo.codes_owned_by(s, src.id)
    for cid, code in custs:
        audit.record(s, actor_id=ctx.staff.id, action="handover", entity="customer", entity_id=cid,
                     entity_code=code, field="owner", old=src.name, new=dst.name, now=now)
    s.execute(update(Customer).where(Customer.owner_id == src.id, Customer.merged_into_id.is_(None)).values(owner_id=dst.id, updated_at=now)
              .execution_options(synchronize_session=False))
    opps = s.execute(update(Opportunity).where(Opportunity.owner_id == src.id, Opportunity.stage.in_(opp_repo.OPEN_STAGES))
                     .values(owner_id=dst.id, updated_at=now).execution_options(synchronize_session=False))
    fus = move_owed(s, where=FollowUp.assignee_id == src.id, to=dst, actor_id=ctx.staff.id, action="handover",
                    now=now)  # what FROM owes; the calls FROM made stay FROM's
    result = HandoverResult(len(custs), opps.rowcount, fus)
    audit.record(s, actor_id=ctx.staff.id, action="handover", entity="staff", entity_id=src.id,
                 entity_code=src.name, field="owner", old=src.name, new=dst.name, now=now)
    s.expire_all()
    if dst.id != ctx.staff.id:
        told = cards.handover_received(dst.lang, src=src.name, by=ctx.staff.name, customers=result.customers,
                                       opps=result.opportunities, fus=result.followups)
        notify.to_staff(s, dst, key=f"handover:{src.id}:{dst.id}:{now.isoformat()}", reply=told, now=now)
    s.flush()
    return result


def set_active(ctx: Ctx, target: Staff, active: bool) -> int:
    """Deactivate (or reactivate, admins only) a member of staff. Returns how many customers they own."""
    if active and ctx.role != "admin":
        raise Forbidden("staffcmd.err.admin_only")
    if not may_manage(ctx, target):
        raise Forbidden("staffcmd.err.not_yours", name=target.name)
    if target.id == ctx.staff.id:
        raise InvalidInput("staffcmd.err.self")
    if target.active == active:
        raise Conflict("staffcmd.err.already_active" if active else "staffcmd.err.already_inactive",
                       name=target.name)
    audit.record(ctx.session, actor_id=ctx.staff.id, action="update", entity="staff", entity_id=target.id,
                 entity_code=target.name, field="active", old=target.active, new=active, now=ctx.now)
    target.active = active
    ctx.session.flush()
    return staff_repo.owned_customers(ctx.session, target.id)
