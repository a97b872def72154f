"""Audit reads: a customer's trail (its own entries and those of its opportunities, follow-ups, tickets)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from storage.models import AuditLog, Customer, FollowUp, Opportunity, Ticket

_MAX = 200


def entries_for_customer(session: Session, *, customer_id: int, limit: int | None = _MAX) -> list[AuditLog]:
    """Newest first: the customer's own entries and those of its opportunities, follow-ups and tickets (the
    newest `limit`; None: all of them)."""
    opp_ids = select(Opportunity.id).where(Opportunity.customer_id == customer_id)
    fu_ids = select(FollowUp.id).where(FollowUp.customer_id == customer_id)
    tk_ids = select(Ticket.id).where(Ticket.customer_id == customer_id)
    q = (select(AuditLog)
         .where(or_(and_(AuditLog.entity == "customer", AuditLog.entity_id == customer_id),
                    and_(AuditLog.entity == "opportunity", AuditLog.entity_id.in_(opp_ids)),
                    and_(AuditLog.entity == "followup", AuditLog.entity_id.in_(fu_ids)),
                    and_(AuditLog.entity == "ticket", AuditLog.entity_id.in_(tk_ids))))
         .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit))
    return list(session.scalars(q))


def last_owner_change(session: Session, *, customer_id: int, actions: tuple[str, ...]) -> datetime | None:
    """When the customer's owner last changed: an entry of one of `actions`, or any change of `owner`."""
    return session.scalar(select(func.max(AuditLog.at)).where(
        AuditLog.entity == "customer", AuditLog.entity_id == customer_id,
        or_(AuditLog.action.in_(actions), AuditLog.field == "owner")))


def type_changes(session: Session, *, where: ColumnElement[bool], start: datetime,
                 end: datetime) -> list[tuple[str | None, str | None, int]]:
    """(from type, to type, how many) of the customer type changes recorded in [start, end), for the
    customers matching `where` (a WHERE on Customer)."""
    return [tuple(r) for r in session.execute(
        select(AuditLog.old, AuditLog.new, func.count()).join(Customer, Customer.id == AuditLog.entity_id)
        .where(AuditLog.entity == "customer", AuditLog.field == "type", AuditLog.at >= start, AuditLog.at < end,
               where).group_by(AuditLog.old, AuditLog.new)).all()]
def owner_changed_since(session: Session, *, customer_ids: list[int], actions: tuple[str, ...],
                        since: datetime) -> set[int]:
    """Of `customer_ids`, those whose owner changed at or after `since` (as `last_owner_change` says)."""
    if not customer_ids:
        return set()
    return set(session.scalars(select(AuditLog.entity_id).distinct().where(
        AuditLog.entity == "customer", AuditLog.entity_id.in_(customer_ids), AuditLog.at >= since,
        or_(AuditLog.action.in_(actions), AuditLog.field == "owner"))))
