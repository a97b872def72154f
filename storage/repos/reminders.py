"""Read queries of the scheduler's sales reminders (the morning digest, the first-contact watch): what is due,
and for whom."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Row, case, exists, func, select, true, tuple_
from sqlalchemy.orm import Bundle, InstrumentedAttribute, aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from storage.db import among
from storage.models import Customer, FollowUp, Outbox, Staff
from storage.repos.followups import due_where


def _behind_where(c: type[Customer], *, now: datetime, last_before: dict[str, datetime], scan: bool = False,
                  few: bool = False) -> list:
    """Owned, not lost customers (`c`: Customer or an alias) last contacted (or, never contacted, created) before
    their grade's cut-off (`last_before`: {"A": …, "B": …, "C": …}, C for any other grade), with nothing planned
    ahead. `scan`: for a pass over the whole table, `merged_into_id` tested as an expression, so that SQLite reads
    the table straight through rather than every row through that index (nearly all are NULL). `few`: for a few
    customers (an owner's first ones, walked through an index), each one's planned follow-ups probed through its
    own index entries, rather than every planned follow-up read into a set first (~90k at 1M: 65 ms)."""
    planned = select(FollowUp.customer_id).where(FollowUp.next_followup_at >= now, FollowUp.done_at.is_(None),
                                                 FollowUp.deleted_at.is_(None))
    cut = case((c.grade == "A", last_before["A"]), (c.grade == "B", last_before["B"]), else_=last_before["C"])
    unmerged = (c.merged_into_id + 0).is_(None) if scan else c.merged_into_id.is_(None)
    none_planned = (~exists(planned.where(FollowUp.customer_id == c.id)) if few
                    else c.id.not_in(planned))  # one set for the whole table, not a probe per customer
    return [c.owner_id.is_not(None), c.type != "lost", unmerged,
            func.coalesce(c.last_followup_at, c.created_at) < cut, none_planned]


def _listed(session: Session, c: type[Customer], before: datetime) -> ColumnElement[bool]:
    """`c` has a follow-up due before `before` owed by its owner (the digest lists it already). Looked up by the
    customer (coalesce keeps the planner off the assignee index: a few rows per customer, not a rep's all)."""
    return exists().where(FollowUp.customer_id == c.id, func.coalesce(FollowUp.assignee_id, 0) == c.owner_id,
                          *due_where(session, None, before))


def _among(session: Session, column: InstrumentedAttribute, ids: set[int]) -> ColumnElement[bool]:
    """`column IN ids`; for many ids over an expression, so that the rows are read in one pass over the table
    rather than one random read each through the column's index (a digest for every rep reads most customers)."""
    return among(session, column if len(ids) <= 50 else func.coalesce(column, 0), ids)


CADENCE_ROW = Bundle("customer", Customer.id, Customer.code, Customer.name, Customer.grade,
                     Customer.last_followup_at, Customer.created_at)


def behind_cadence(session: Session, *, owner_ids: set[int], now: datetime, last_before: dict[str, datetime],
                   listed_before: datetime, first: int, first_of: set[int] | None = None
                   ) -> dict[int, tuple[list[Row], int]]:
    """Per owner of `owner_ids`: (their first `first` customers behind their grade's cadence, the least recently
    contacted first, as rows of `CADENCE_ROW`'s columns; how many in all), leaving out the customers they owe a
    follow-up due before `listed_before` (the digest lists those already). The first ones are read only for the
    owners in `first_of` (default: all; the digest asks only for reps whose due follow-ups leave it room) that
    have any, the others get an empty list and their count.

    Two statements for every owner together: the counts (one pass over the customers, as a GROUP BY; minus the
    listed ones, found from their follow-ups), and each owner's first ones through the (owner, last contact)
    index, `first` rows a owner, in one statement (a LATERAL join on PostgreSQL)."""
    behind = _behind_where(Customer, now=now, last_before=last_before)
    owner = func.coalesce(Customer.owner_id, 0)
    all_n = (select(owner, func.count())
             .where(*_behind_where(Customer, now=now, last_before=last_before, scan=True),
                    _among(session, Customer.owner_id, owner_ids)).group_by(owner))
    # only the overdue ones: a customer with a follow-up due from `now` on has one planned, so is not behind
    overdue = due_where(session, owner_ids, min(listed_before, now))
    if session.get_bind().dialect.name == "postgresql":
        # one pass over the customers, the listed ones left out by a hash anti-join on the overdue follow-ups
        # (a second statement would make PostgreSQL read the whole table again: a hash join, not key lookups)
        q = all_n.where(tuple_(Customer.id, Customer.owner_id).not_in(
            select(FollowUp.customer_id, FollowUp.assignee_id).where(*overdue)))
    else:
        # driven by the due follow-ups (few), each customer looked up by its key: as a join, SQLite may pick the
        # customers as the outer loop (an index on one of `behind`'s columns) and probe the follow-ups 1M times
        behind_owner = exists().where(Customer.id == FollowUp.customer_id,
                                      Customer.owner_id == FollowUp.assignee_id, *behind)
        q = all_n.union_all(select(FollowUp.assignee_id, -func.count(func.distinct(FollowUp.customer_id)))
                            .where(*overdue, behind_owner).group_by(FollowUp.assignee_id))
    counts: dict[int, int] = {}
    for oid, n in session.execute(q).all():
        counts[oid] = counts.get(oid, 0) + int(n)
    out: dict[int, tuple[list[Row], int]] = {oid: ([], counts.get(oid, 0)) for oid in owner_ids}
    first_of = {oid for oid in (owner_ids if first_of is None else first_of & owner_ids) if counts.get(oid)}
    if not first_of:
        return out
    c = aliased(Customer)
    firsts = (select(c.id).where(c.owner_id == Staff.id,
                                 *_behind_where(c, now=now, last_before=last_before, few=True),
                                 ~_listed(session, c, listed_before))
              .order_by(c.last_followup_at, c.id).limit(first))
    if session.get_bind().dialect.name == "postgresql":
        ids = firsts.correlate(Staff).lateral()
        q = (select(Staff.id, CADENCE_ROW).select_from(Staff).join(ids, true())
             .join(Customer, Customer.id == ids.c.id))
    else:  # SQLite has no LATERAL; it runs a correlated IN once per outer row
        q = (select(Staff.id, CADENCE_ROW).select_from(Staff)
             .join(Customer, Customer.id.in_(firsts.correlate(Staff).scalar_subquery())))
    q = q.where(among(session, Staff.id, first_of)).order_by(Staff.id, Customer.last_followup_at, Customer.id)
    for oid, row in session.execute(q).all():
        out[oid][0].append(row)
    return out


def count_behind(session: Session, *, now: datetime, last_before: dict[str, datetime]) -> int:
    """How many customers (of every owner) are behind their grade's cadence."""
    return int(session.scalar(select(func.count()).select_from(Customer)
                              .where(*_behind_where(Customer, now=now, last_before=last_before))) or 0)


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
    return set(session.scalars(select(Outbox.key).where(among(session, Outbox.key, keys)))) if keys else set()
