"""Read queries of the scheduler's sales reminders (the morning digest, the first-contact watch): what is due,
and for whom."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session

from storage.models import Customer, FollowUp, Outbox, Staff


def quiet_customers(session: Session, *, now: datetime, older_than: timedelta,
                    owner_id: int | None = None) -> list[Customer]:
    """Owned, not lost customers last contacted (or, never contacted, created) more than `older_than` ago, with
    nothing planned ahead; the least recently contacted first."""
    planned = exists().where(FollowUp.customer_id == Customer.id, FollowUp.next_followup_at >= now,
                             FollowUp.done_at.is_(None), FollowUp.deleted_at.is_(None))
    q = (select(Customer).where(Customer.owner_id.is_not(None), Customer.type != "lost", ~planned,
                                Customer.merged_into_id.is_(None),
                                or_(and_(Customer.last_followup_at.is_(None), Customer.created_at < now - older_than),
                                    Customer.last_followup_at < now - older_than))
         .order_by(Customer.last_followup_at, Customer.id))
    if owner_id is not None:
        q = q.where(Customer.owner_id == owner_id)
    return list(session.scalars(q))


def new_leads_without_followup(session: Session, *, created_from: datetime, created_to: datetime,
                               stamp: InstrumentedAttribute, methods: Iterable[str]) -> list[Customer]:
    """Owned `potential` customers created in (created_from, created_to], not yet stamped (`stamp` is None), with
    no follow-up of one of `methods` logged."""
    none_logged = ~exists().where(FollowUp.customer_id == Customer.id, FollowUp.deleted_at.is_(None),
                                  FollowUp.method.in_(tuple(methods)))
    return list(session.scalars(
        select(Customer).where(Customer.type == "potential", Customer.owner_id.is_not(None), stamp.is_(None),
                               Customer.merged_into_id.is_(None),
                               Customer.created_at <= created_to, Customer.created_at > created_from, none_logged)
        .order_by(Customer.id)))


def active_staff(session: Session, *, role: str | None = None) -> list[Staff]:
    q = select(Staff).where(Staff.active.is_(True))
    if role is not None:
        q = q.where(Staff.role == role)
    return list(session.scalars(q.order_by(Staff.id)))


def outbox_keys(session: Session, keys: list[str]) -> set[str]:
    """Which of `keys` have an outbox row."""
    return set(session.scalars(select(Outbox.key).where(Outbox.key.in_(keys)))) if keys else set()
