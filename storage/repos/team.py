"""Read queries of a sales manager's view of their team: who falls behind (cadence, first contacts), which
customers are about to return to the pool, and the week's figures for the Monday summary."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, exists, func, or_, select
from sqlmodel import Session

from storage.models import AuditLog, Customer, FollowUp, Opportunity, OpportunityStage, Staff


def managers(session: Session) -> list[Staff]:
    """Active sales managers, by id."""
    return list(session.scalars(select(Staff).where(Staff.active.is_(True), Staff.role == "manager")
                                .order_by(Staff.id)))


def members(session: Session, ids: Iterable[int]) -> list[Staff]:
    """The staff with `ids` (active or not), by name."""
    return list(session.scalars(select(Staff).where(Staff.id.in_(list(ids))).order_by(Staff.name, Staff.id)))


def behind_cadence(session: Session, *, owner_ids: Iterable[int], now: datetime,
                   cadence: dict[str, int]) -> list[Customer]:
    """Owned, not lost customers of `owner_ids` whose last contact (never contacted: creation) is older than
    their grade's cadence (`cadence`: grade → days, "C" also for no grade), with nothing planned ahead; per
    owner, the least recently contacted first."""
    planned = exists().where(FollowUp.customer_id == Customer.id, FollowUp.next_followup_at >= now,
                             FollowUp.done_at.is_(None), FollowUp.deleted_at.is_(None))
    last = func.coalesce(Customer.last_followup_at, Customer.created_at)
    late = or_(*(and_(Customer.grade == g, last < now - timedelta(days=d)) for g, d in cadence.items() if g != "C"),
               and_(or_(Customer.grade.is_(None), Customer.grade.not_in([g for g in cadence if g != "C"])),
                    last < now - timedelta(days=cadence["C"])))
    return list(session.scalars(
        select(Customer).where(Customer.owner_id.in_(list(owner_ids)), Customer.type != "lost", ~planned, late)
        .order_by(Customer.owner_id, last, Customer.id)))


def leads_without_contact(session: Session, *, owner_ids: Iterable[int], created_from: datetime,
                          created_to: datetime, methods: Iterable[str]) -> list[Customer]:
    """`potential` customers of `owner_ids` created in (created_from, created_to] with no follow-up of one of
    `methods` logged: first contacts missed."""
    none_logged = ~exists().where(FollowUp.customer_id == Customer.id, FollowUp.deleted_at.is_(None),
                                  FollowUp.method.in_(tuple(methods)))
    return list(session.scalars(
        select(Customer).where(Customer.type == "potential", Customer.owner_id.in_(list(owner_ids)),
                               Customer.created_at <= created_to, Customer.created_at > created_from, none_logged)
        .order_by(Customer.owner_id, Customer.created_at, Customer.id)))


def pool_candidates(session: Session, *, quiet_until: datetime) -> list[Customer]:
    """Owned customers whose last follow-up (or, without one, creation) is at or before `quiet_until`, by owner then
    id: the ones the pool return rule reaches soon (their last owner change aside)."""
    last = func.coalesce(Customer.last_followup_at, Customer.created_at)
    return list(session.scalars(select(Customer).where(Customer.owner_id.is_not(None), last <= quiet_until)
                                .order_by(Customer.owner_id, Customer.id)))


def last_owner_changes(session: Session, *, customer_ids: Iterable[int], actions: Iterable[str]
                       ) -> dict[int, datetime]:
    """{customer id: when its owner last changed (an entry of one of `actions`, or any change of `owner`)}, as
    `audit.last_owner_change` tells for one customer."""
    ids = list(customer_ids)
    if not ids:
        return {}
    return dict(session.execute(select(AuditLog.entity_id, func.max(AuditLog.at)).where(
        AuditLog.entity == "customer", AuditLog.entity_id.in_(ids),
        or_(AuditLog.action.in_(list(actions)), AuditLog.field == "owner")).group_by(AuditLog.entity_id)).all())


def stage_reached(session: Session, *, owner_ids: Iterable[int], stages: Iterable[str], start: datetime,
                  end: datetime) -> list[tuple[Opportunity, datetime]]:
    """(opportunity, when) of the opportunities owned by `owner_ids` that moved to one of `stages` in
    [start, end), by time."""
    at = func.max(OpportunityStage.at).label("at")
    sub = (select(OpportunityStage.opportunity_id, at).where(OpportunityStage.to_stage.in_(list(stages)))
           .group_by(OpportunityStage.opportunity_id).subquery())
    return [tuple(r) for r in session.execute(
        select(Opportunity, sub.c.at).join(sub, sub.c.opportunity_id == Opportunity.id)
        .where(Opportunity.owner_id.in_(list(owner_ids)), Opportunity.stage.in_(list(stages)),
               sub.c.at >= start, sub.c.at < end)
        .order_by(sub.c.at, Opportunity.id)).all()]


def open_pipeline_at(session: Session, *, owner_ids: Iterable[int], at: datetime,
                     closed: Iterable[str]) -> tuple[int, Decimal]:
    """(count, expected amount) of the opportunities of `owner_ids` open at `at`: created before it and not
    moved to a `closed` stage by then (amounts as they are now)."""
    closed_by = exists().where(OpportunityStage.opportunity_id == Opportunity.id,
                               OpportunityStage.to_stage.in_(list(closed)), OpportunityStage.at < at)
    n, amount = session.execute(select(func.count(), func.coalesce(func.sum(Opportunity.expected_amount), 0)).where(
        Opportunity.owner_id.in_(list(owner_ids)), Opportunity.created_at < at, ~closed_by,
        or_(Opportunity.stage.not_in(list(closed)),
            exists().where(OpportunityStage.opportunity_id == Opportunity.id,
                           OpportunityStage.to_stage.in_(list(closed)))))).one()
    return int(n), Decimal(amount)
