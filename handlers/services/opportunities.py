"""Sales opportunities: create and move through the stages in order (their reports: `services.sales_report`).

Stages (domain.md): initial → needs → proposal → negotiation, then won or lost. A move goes to the next
stage only (no skipping, no going back); won or lost may be reached from any open stage and end it. `won`
needs the actual amount and the contract number, `lost` a reason. Every move is an `OpportunityStage` row
with its note, and an audit entry. Visibility: sales data — the owner (or the customer's owner), their
manager's team, admin.

A won opportunity counts what was signed (`actual_amount`) wherever it is shown or summed (`amount_of`). Its
purchase is recorded once (`record_won_purchase`): the opportunity's own audit entry (action `purchase`)
marks it done, read under a lock on the opportunity's row.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.sql.elements import ColumnElement

from handlers import inputs
from handlers.context import Ctx
from handlers.errors import Conflict, Forbidden, InvalidInput, NotFound
from handlers.i18n import enum_label
from handlers.permissions import can_edit_customer, can_see_customer, team_ids
from handlers.services import audit, purchases
from storage import codes
from storage.models import Customer, Opportunity, OpportunityStage, Purchase
from storage.repos import opportunities as opp_repo

STAGES, OPEN = opp_repo.STAGES, opp_repo.OPEN_STAGES
CONTRACT_MAX = 100  # Opportunity.contract_no


def opp_filter(ctx: Ctx) -> ColumnElement[bool]:
    s = ctx.staff
    if s is None or s.role not in ("rep", "manager", "admin"):
        return Opportunity.id == -1
    if s.role == "admin":
        return Opportunity.id.is_not(None)
    ids = team_ids(ctx) if s.role == "manager" else {s.id}
    owned = select(Customer.id).where(Customer.owner_id.in_(ids))
    return or_(Opportunity.owner_id.in_(ids), Opportunity.customer_id.in_(owned))


def get_visible(ctx: Ctx, code: str) -> Opportunity:
    o = opp_repo.get_by_code(ctx.session, code=inputs.key(code), where=opp_filter(ctx))
    if o is None:
        raise NotFound("opp.not_found", code=code.strip())
    return o


def create_opportunity(ctx: Ctx, customer: Customer, *, name: str, amount: Decimal | None,
                       close: date | None, competitors: str | None = None, strengths: str | None = None,
                       weaknesses: str | None = None) -> Opportunity:
    if not can_see_customer(ctx, customer):
        raise NotFound("lookup.not_found", query=customer.code)
    if not can_edit_customer(ctx, customer) or ctx.role not in ("rep", "manager", "admin"):
        raise Forbidden("cust.err.edit_forbidden")
    s, now = ctx.session, ctx.now
    o = Opportunity(code=codes.opportunity_code(s, customer_code=customer.code), customer_id=customer.id,
                    name=name, expected_amount=amount, expected_close_date=close, stage="initial",
                    competitors=competitors, strengths=strengths, weaknesses=weaknesses,
                    owner_id=customer.owner_id or ctx.staff.id, created_at=now, updated_at=now)
    s.add(o)
    s.flush()
    s.add(OpportunityStage(opportunity_id=o.id, from_stage=None, to_stage="initial", staff_id=ctx.staff.id, at=now))
    audit.record(s, actor_id=ctx.staff.id, action="create", entity="opportunity", entity_id=o.id,
                 entity_code=o.code, new=name, now=now)
    s.flush()
    return o


def may_edit(ctx: Ctx, o: Opportunity) -> bool:
    """May the actor change the sales data of the opportunity's customer (the card's after-win steps)?"""
    c = ctx.session.get(Customer, o.customer_id)
    return c is not None and can_edit_customer(ctx, c)


def change_stage(ctx: Ctx, o: Opportunity, stage: str, *, note: str | None = None,
                 actual_amount: Decimal | None = None, contract_no: str | None = None,
                 lost_reason: str | None = None) -> OpportunityStage:
    ctx.session.refresh(o, with_for_update=True)  # concurrent changes queue: each starts where the last one left
    if o.stage not in OPEN:
        raise Conflict("opp.err.closed", code=o.code, stage=enum_label(ctx.lang, "stage", o.stage))
    if stage in OPEN and stage != opp_repo.next_stage(o.stage):
        nxt = opp_repo.next_stage(o.stage)
        raise InvalidInput("opp.err.order", stage=enum_label(ctx.lang, "stage", stage),
                           next=enum_label(ctx.lang, "stage", nxt) if nxt else "—")
    if stage == "won" and (actual_amount is None or not contract_no):
        raise InvalidInput("opp.err.won_needs", code=o.code)
    if contract_no and len(contract_no) > CONTRACT_MAX:  # the column's size: refused, never cut
        raise InvalidInput("cust.err.field", field=ctx.t("opp.f.contract"),
                           error=ctx.t("err.too_long", max=CONTRACT_MAX))
    if stage == "lost":
        lost_reason = lost_reason or note
        if not lost_reason:
            raise InvalidInput("opp.err.lost_needs", code=o.code)
    s, now = ctx.session, ctx.now
    row = OpportunityStage(opportunity_id=o.id, from_stage=o.stage, to_stage=stage, note=note,
                           staff_id=ctx.staff.id, at=now)
    s.add(row)
    audit.record(s, actor_id=ctx.staff.id, action="stage", entity="opportunity", entity_id=o.id,
                 entity_code=o.code, field="stage", old=o.stage, new=stage, now=now)
    if stage == "won":
        o.actual_amount, o.contract_no = actual_amount, contract_no
    if stage == "lost":
        o.lost_reason = lost_reason
    o.stage, o.updated_at = stage, now
    s.flush()
    return row


def record_won_purchase(ctx: Ctx, o: Opportunity) -> tuple[Purchase | None, str | None]:
    """Record the purchase a won opportunity stands for (its actual amount, dated the day it was won) and
    regrade the customer. Once: a second call returns (None, None). Returns (purchase, new grade)."""
    if o.stage != "won":
        raise Conflict("opp.err.not_won", code=o.code)
    s = ctx.session
    s.scalar(select(Opportunity.id).where(Opportunity.id == o.id).with_for_update())  # PostgreSQL: one at a time
    if opp_repo.won_purchase_recorded(s, opportunity_id=o.id):
        return None, None
    won_at = opp_repo.won_at(s, opportunity_id=o.id)
    c = s.get(Customer, o.customer_id)
    product = f"{o.name} ({o.contract_no})" if o.contract_no else o.name
    p, grade = purchases.record_purchase(ctx, c, amount=o.actual_amount, product=product[:200],
                                         day=won_at.astimezone(ctx.tz).date() if won_at else None)
    audit.record(s, actor_id=ctx.staff.id, action="purchase", entity="opportunity", entity_id=o.id,
                 entity_code=o.code, new=f"{product} ¥{o.actual_amount}", now=ctx.now)
    s.flush()
    return p, grade
