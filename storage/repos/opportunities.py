"""Opportunity reads: by code, a customer's (open) ones, the stage history, the won purchase mark."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from storage.models import AuditLog, Customer, Opportunity, OpportunityStage

STAGES = ("initial", "needs", "proposal", "negotiation", "won", "lost")
OPEN_STAGES = STAGES[:4]


def amount_of(o: Opportunity) -> Decimal | None:
    """What an opportunity is worth: the signed amount once won, else the expected amount."""
    return o.actual_amount if o.stage == "won" else o.expected_amount


def next_stage(stage: str) -> str | None:
    return OPEN_STAGES[OPEN_STAGES.index(stage) + 1] if stage in OPEN_STAGES[:-1] else None


def get_by_code(session: Session, *, code: str, where: ColumnElement[bool]) -> Opportunity | None:
    return session.scalar(select(Opportunity).where(func.upper(Opportunity.code) == code.strip().upper(), where))


def list_for_customer(session: Session, *, customer_id: int, open_only: bool = False) -> list[Opportunity]:
    """A customer's opportunities by code (open ones only: by id)."""
    q = select(Opportunity).where(Opportunity.customer_id == customer_id)
    if open_only:
        return list(session.scalars(q.where(Opportunity.stage.in_(OPEN_STAGES)).order_by(Opportunity.id)))
    return list(session.scalars(q.order_by(Opportunity.code)))


def open_ids_of(session: Session, *, customer_id: int, owner_id: int) -> list[int]:
    """Ids of the customer's open opportunities owned by `owner_id`."""
    return list(session.scalars(select(Opportunity.id).where(
        Opportunity.customer_id == customer_id, Opportunity.owner_id == owner_id,
        Opportunity.stage.in_(OPEN_STAGES))))


def stage_history(session: Session, *, opportunity_id: int) -> list[OpportunityStage]:
    return list(session.scalars(select(OpportunityStage).where(OpportunityStage.opportunity_id == opportunity_id)
                                .order_by(OpportunityStage.at, OpportunityStage.id)))


def won_at(session: Session, *, opportunity_id: int) -> datetime | None:
    return session.scalar(select(func.max(OpportunityStage.at)).where(
        OpportunityStage.opportunity_id == opportunity_id, OpportunityStage.to_stage == "won"))


def won_purchase_recorded(session: Session, *, opportunity_id: int) -> bool:
    """The opportunity's own `purchase` audit entry marks its purchase as recorded."""
    return session.scalar(select(AuditLog.id).where(AuditLog.entity == "opportunity",
                                                    AuditLog.entity_id == opportunity_id,
                                                    AuditLog.action == "purchase").limit(1)) is not None


def created_between(session: Session, *, where: ColumnElement[bool], start: datetime,
                    end: datetime) -> list[Opportunity]:
    return list(session.scalars(select(Opportunity).where(
        where, Opportunity.created_at >= start, Opportunity.created_at < end)))


def owned_by(staff_id: int) -> ColumnElement[bool]:
    """A WHERE clause: the opportunities `staff_id` owns or whose customer they own."""
    mine = select(Customer.id).where(Customer.owner_id == staff_id)
    return (Opportunity.owner_id == staff_id) | Opportunity.customer_id.in_(mine)


def search(session: Session, *, where: list, by_stage: bool = False) -> list[Opportunity]:
    """The opportunities matching every clause of `where`: newest first, or (`by_stage`) in stage order, then
    by expected close date."""
    order = (Opportunity.created_at.desc(), Opportunity.id.desc())
    if by_stage:
        rank = case({st: i for i, st in enumerate(STAGES)}, value=Opportunity.stage, else_=len(STAGES))
        order = (rank, Opportunity.expected_close_date.is_(None), Opportunity.expected_close_date, *order)
    return list(session.scalars(select(Opportunity).where(*where).order_by(*order)))


def stage_rows(session: Session, *, opportunity_ids: list[int]) -> list[OpportunityStage]:
    """The stage changes of these opportunities, oldest first (the funnel reads how far each one got)."""
    if not opportunity_ids:
        return []
    return list(session.scalars(select(OpportunityStage).where(OpportunityStage.opportunity_id.in_(opportunity_ids))
                                .order_by(OpportunityStage.at, OpportunityStage.id)))


def won_between(session: Session, *, where: ColumnElement[bool], start: datetime,
                end: datetime) -> list[tuple[Opportunity, datetime]]:
    """Won opportunities whose move to `won` fell in [start, end), with that moment."""
    at = func.max(OpportunityStage.at).label("won_at")
    won = (select(OpportunityStage.opportunity_id, at).where(OpportunityStage.to_stage == "won")
           .group_by(OpportunityStage.opportunity_id).subquery())
    q = (select(Opportunity, won.c.won_at).join(won, won.c.opportunity_id == Opportunity.id)
         .where(where, Opportunity.stage == "won", won.c.won_at >= start, won.c.won_at < end))
    return [(o, w) for o, w in session.execute(q).all()]


def open_ones(session: Session, *, where: ColumnElement[bool]) -> list[Opportunity]:
    """Every open opportunity matching `where` (the forecast weighs them)."""
    return list(session.scalars(select(Opportunity).where(where, Opportunity.stage.in_(OPEN_STAGES))
                                .order_by(Opportunity.expected_close_date, Opportunity.id)))
