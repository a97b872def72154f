"""Follow-up reads: a customer's recent ones and history, the due list, the report's counts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Row, case, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from storage.db import among
from storage.models import AuditLog, Customer, FollowUp


def recent(session: Session, customer_id: int, n: int = 5) -> list[FollowUp]:
    """The customer's last `n` live follow-ups, newest first (the customer card shows them)."""
    return list(session.scalars(select(FollowUp).where(
        FollowUp.customer_id == customer_id, FollowUp.deleted_at.is_(None))
        .order_by(FollowUp.date.desc(), FollowUp.id.desc()).limit(n)))


def history(session: Session, *, customer_id: int, method: str | None = None, start: datetime | None = None,
            end: datetime | None = None) -> list[FollowUp]:
    """A customer's live follow-ups in [start, end), newest first."""
    q = select(FollowUp).where(FollowUp.customer_id == customer_id, FollowUp.deleted_at.is_(None))
    if method:
        q = q.where(FollowUp.method == method)
    if start:
        q = q.where(FollowUp.date >= start)
    if end:
        q = q.where(FollowUp.date < end)
    return list(session.scalars(q.order_by(FollowUp.date.desc(), FollowUp.id.desc())))


def due_where(session: Session, owner_ids: set[int] | None, before: datetime) -> list:
    """WHERE clauses: open follow-ups due before `before`, owed by `owner_ids` (None: by anyone)."""
    conds = [FollowUp.deleted_at.is_(None), FollowUp.done_at.is_(None), FollowUp.next_followup_at.is_not(None),
             FollowUp.next_followup_at < before]
    if owner_ids is not None:
        conds.append(among(session, FollowUp.assignee_id, owner_ids))
    return conds


def list_due(session: Session, *, owner_ids: set[int] | None, before: datetime, offset: int = 0,
             limit: int | None = None) -> list[tuple[FollowUp, Customer]]:
    """Open follow-ups due before `before`, owed by `owner_ids` (None: all), earliest first, paged in SQL."""
    q = (select(FollowUp, Customer).join(Customer, Customer.id == FollowUp.customer_id)
         .where(*due_where(session, owner_ids, before)).order_by(FollowUp.next_followup_at, FollowUp.id)
         .offset(offset).limit(limit))
    return [(f, c) for f, c in session.execute(q).all()]


DUE_ROW = (FollowUp.id, FollowUp.assignee_id, FollowUp.next_followup_at, FollowUp.method, FollowUp.content,
           FollowUp.customer_id)  # a due follow-up as the digest shows it (with its customer's code and name)


def due_by_assignee(session: Session, *, owner_ids: set[int], before: datetime, split: datetime, first: int
                    ) -> dict[int, tuple[list[Row], int, int]]:
    """Per assignee of `owner_ids`: (their first `first` due follow-ups as `list_due` orders them, as rows of
    `DUE_ROW`'s columns and their customer's code and name (a row serves as both); how many are due in all; how
    many of those before `split`): every assignee's in one statement (the morning digest; flat rows, not ORM
    objects or bundles: thousands of them). The ranked rows carry the follow-up's columns, so that only the
    customers of the first ones are looked up, not each follow-up a second time by its key."""
    part = FollowUp.assignee_id
    order = (FollowUp.next_followup_at, FollowUp.id)
    ranked = (select(*DUE_ROW,
                     func.row_number().over(partition_by=part, order_by=order).label("rn"),
                     func.count().over(partition_by=part).label("n"),
                     func.sum(case((FollowUp.next_followup_at < split, 1), else_=0)).over(partition_by=part)
                     .label("early"))
              .where(*due_where(session, owner_ids, before)).subquery())
    rk = ranked.c
    q = (select(rk.id, rk.assignee_id, rk.next_followup_at, rk.method, rk.content, Customer.code, Customer.name, rk.n,
                rk.early).join(Customer, Customer.id == rk.customer_id).where(rk.rn <= first)
         .order_by(rk.assignee_id, rk.rn))
    out: dict[int, tuple[list[Row], int, int]] = {}
    for r in session.execute(q).all():
        got = out.get(r.assignee_id)
        if got is None:
            got = out[r.assignee_id] = ([], int(r.n), int(r.early))
        got[0].append(r)
    return out


def count_due(session: Session, *, owner_ids: set[int] | None, before: datetime, now: datetime) -> tuple[int, int]:
    """(all due, overdue at `now`) — what `list_due` would list, counted in SQL."""
    overdue = case((FollowUp.next_followup_at < now, 1), else_=0)
    q = (select(func.count(), func.coalesce(func.sum(overdue), 0))
         .select_from(FollowUp).join(Customer, Customer.id == FollowUp.customer_id)
         .where(*due_where(session, owner_ids, before)))
    total, late = session.execute(q).one()
    return int(total), int(late)


def typed_by(session: Session, *, followup_id: int, actor_id: int) -> bool:
    """Did `actor_id` log the follow-up (its `create` audit row names who typed it)?"""
    return session.scalar(select(AuditLog.id).where(
        AuditLog.entity == "followup", AuditLog.entity_id == followup_id, AuditLog.action == "create",
        AuditLog.actor_id == actor_id).limit(1)) is not None


def logged_by_method(session: Session, *, staff_ids: Iterable[int], start: datetime, end: datetime,
                     methods: Iterable[str]) -> list[tuple[int, str, int]]:
    """(author, method, count) of the live follow-ups made in [start, end) with one of `methods`."""
    return [tuple(r) for r in session.execute(select(FollowUp.staff_id, FollowUp.method, func.count()).where(
        FollowUp.staff_id.in_(list(staff_ids)), FollowUp.deleted_at.is_(None), FollowUp.date >= start,
        FollowUp.date < end, FollowUp.method.in_(list(methods)))
        .group_by(FollowUp.staff_id, FollowUp.method)).all()]


def touched_by_author(session: Session, *, staff_ids: Iterable[int], start: datetime, end: datetime,
                      methods: Iterable[str]) -> dict[int, int]:
    """{author: how many different customers their live follow-ups in [start, end) reached}."""
    return dict(session.execute(select(FollowUp.staff_id, func.count(FollowUp.customer_id.distinct())).where(
        FollowUp.staff_id.in_(list(staff_ids)), FollowUp.deleted_at.is_(None), FollowUp.date >= start,
        FollowUp.date < end, FollowUp.method.in_(list(methods))).group_by(FollowUp.staff_id)).all())


def logged_dates(session: Session, *, staff_ids: Iterable[int], start: datetime, end: datetime,
                 methods: Iterable[str]) -> list[tuple[int, datetime]]:
    """(author, date) of each live follow-up in [start, end): the weekly trend buckets them."""
    return [tuple(r) for r in session.execute(select(FollowUp.staff_id, FollowUp.date).where(
        FollowUp.staff_id.in_(list(staff_ids)), FollowUp.deleted_at.is_(None), FollowUp.date >= start,
        FollowUp.date < end, FollowUp.method.in_(list(methods)))).all()]


def last_touch_of_owned(session: Session, *, owner_ids: Iterable[int], at: datetime,
                        methods: Iterable[str]) -> list[tuple[int, str, datetime | None]]:
    """(owner, grade, its last live follow-up up to `at`, by anyone) of every customer the owners have now,
    lost customers left out: the cadence check."""
    last = (select(FollowUp.customer_id, func.max(FollowUp.date).label("d"))
            .where(FollowUp.deleted_at.is_(None), FollowUp.date <= at, FollowUp.method.in_(list(methods)))
            .group_by(FollowUp.customer_id).subquery())
    d = last.c.d
    return [tuple(r) for r in session.execute(
        select(Customer.owner_id, Customer.grade, d).outerjoin(last, last.c.customer_id == Customer.id)
        .where(Customer.owner_id.in_(list(owner_ids)), Customer.type != "lost")).all()]


def overdue_by_assignee(session: Session, *, staff_ids: Iterable[int], now: datetime) -> dict[int, int]:
    """{assignee: how many open follow-ups they owe that are overdue at `now`}."""
    return dict(session.execute(select(FollowUp.assignee_id, func.count()).where(
        FollowUp.assignee_id.in_(list(staff_ids)), FollowUp.deleted_at.is_(None), FollowUp.done_at.is_(None),
        FollowUp.next_followup_at < now).group_by(FollowUp.assignee_id)).all())


def list_open(session: Session, *, customer_id: int) -> list[FollowUp]:
    """The customer's live follow-ups whose next follow-up is still owed (scheduled, not done)."""
    return list(session.scalars(select(FollowUp).where(
        FollowUp.customer_id == customer_id, FollowUp.deleted_at.is_(None), FollowUp.done_at.is_(None),
        FollowUp.next_followup_at.is_not(None))))


def list_closed_at(session: Session, *, customer_id: int, at: datetime, other_than: int) -> list[FollowUp]:
    """The customer's live follow-ups closed at `at` (by logging follow-up `other_than`)."""
    return list(session.scalars(select(FollowUp).where(
        FollowUp.customer_id == customer_id, FollowUp.done_at == at, FollowUp.deleted_at.is_(None),
        FollowUp.id != other_than)))


def last_and_next(session: Session, *, customer_id: int, methods: Iterable[str]
                  ) -> tuple[datetime | None, datetime | None]:
    """(the latest live contact made with one of `methods`, the earliest next follow-up still owed): one pass
    over the customer's live follow-ups (`ix_followup_customer_date`), on every log, edit and undo."""
    row = session.execute(
        select(func.max(case((FollowUp.method.in_(list(methods)), FollowUp.date))),
               func.min(case((FollowUp.done_at.is_(None), FollowUp.next_followup_at))))
        .where(FollowUp.customer_id == customer_id, FollowUp.deleted_at.is_(None))).one()
    return row[0], row[1]


def owed_rows(session: Session, *, where: ColumnElement[bool], not_to: int | None) -> list[tuple[int, int | None, str]]:
    """(follow-up id, assignee, customer code) of the open follow-ups matching `where` not owed by `not_to`."""
    return [tuple(r) for r in session.execute(
        select(FollowUp.id, FollowUp.assignee_id, Customer.code).join(Customer, Customer.id == FollowUp.customer_id)
        .where(where, FollowUp.next_followup_at.is_not(None), FollowUp.done_at.is_(None),
               FollowUp.deleted_at.is_(None), FollowUp.assignee_id.is_distinct_from(not_to))
        .order_by(FollowUp.id)).all()]


def keys_of(session: Session, customer_ids: list[int]) -> list[tuple[int, datetime, int, str, str]]:
    """(customer id, date, author, method, content) of the live follow-ups of a batch of customers: what an
    import matches its rows against, so a file imported twice adds nothing."""
    if not customer_ids:
        return []
    q = select(FollowUp.customer_id, FollowUp.date, FollowUp.staff_id, FollowUp.method, FollowUp.content).where(
        FollowUp.customer_id.in_(customer_ids), FollowUp.deleted_at.is_(None))
    return [tuple(r) for r in session.execute(q)]
