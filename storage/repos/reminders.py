"""Read queries of the scheduler's sales reminders (the morning digest, the first-contact watch): what is due,
and for whom."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import case, exists, func, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session

from storage.models import Customer, FollowUp, Outbox, Staff
from storage.repos.followups import due_where


def _behind_where(*, now: datetime, last_before: dict[str, datetime]) -> list:
    """Owned, not lost customers last contacted (or, never contacted, created) before their grade's cut-off
    (`last_before`: {"A": …, "B": …, "C": …}, C for any other grade), with nothing planned ahead."""
    planned = select(FollowUp.customer_id).where(FollowUp.next_followup_at >= now, FollowUp.done_at.is_(None),
                                                 FollowUp.deleted_at.is_(None))
    cut = case((Customer.grade == "A", last_before["A"]), (Customer.grade == "B", last_before["B"]),
               else_=last_before["C"])
    return [Customer.owner_id.is_not(None), Customer.type != "lost",
            func.coalesce(Customer.last_followup_at, Customer.created_at) < cut,
            Customer.id.not_in(planned)]  # one set for the whole table, not a probe per customer


def behind_cadence(session: Session, *, owner_ids: set[int], now: datetime, last_before: dict[str, datetime],
                   listed_before: datetime, first: int) -> dict[int, tuple[list[Customer], int]]:
    """Per owner of `owner_ids`: (their first `first` customers behind their grade's cadence, the least recently
    contacted first; how many in all), leaving out the customers they owe a follow-up due before `listed_before`
    (the digest lists those already). Every owner's in one statement."""
    listed = (select(FollowUp.assignee_id, FollowUp.customer_id)
              .where(*due_where(None, listed_before), FollowUp.assignee_id.is_not(None)))
    part, order = Customer.owner_id, (Customer.last_followup_at, Customer.id)
    ranked = (select(Customer.id.label("cid"),
                     func.row_number().over(partition_by=part, order_by=order).label("rn"),
                     func.count().over(partition_by=part).label("n"))
              .where(*_behind_where(now=now, last_before=last_before), Customer.owner_id.in_(owner_ids),
                     tuple_(Customer.owner_id, Customer.id).not_in(listed)).subquery())
    q = (select(Customer, ranked.c.n).join(ranked, ranked.c.cid == Customer.id).where(ranked.c.rn <= first)
         .order_by(Customer.owner_id, ranked.c.rn))
    out: dict[int, tuple[list[Customer], int]] = {}
    for c, n in session.execute(q).all():
        out.setdefault(c.owner_id, ([], int(n)))[0].append(c)
    return out


def count_behind(session: Session, *, now: datetime, last_before: dict[str, datetime]) -> int:
    """How many customers (of every owner) are behind their grade's cadence."""
    return int(session.scalar(select(func.count()).select_from(Customer)
                              .where(*_behind_where(now=now, last_before=last_before))) or 0)


def new_leads_without_followup(session: Session, *, created_from: datetime, created_to: datetime,
                               stamp: InstrumentedAttribute, methods: Iterable[str]) -> list[Customer]:
    """Owned `potential` customers created in (created_from, created_to], not yet stamped (`stamp` is None), with
    no follow-up of one of `methods` logged."""
    none_logged = ~exists().where(FollowUp.customer_id == Customer.id, FollowUp.deleted_at.is_(None),
                                  FollowUp.method.in_(tuple(methods)))
    return list(session.scalars(
        select(Customer).where(Customer.type == "potential", Customer.owner_id.is_not(None), stamp.is_(None),
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
