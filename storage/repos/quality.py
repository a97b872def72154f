"""The reads behind `/report quality` (数据质量): each section one or two grouped queries over the customers
matching `where`, so the report stays quick on 100,000 customers — what goes back to Python is the duplicate
keys, the first rows of each list and, for the validators, only the values that are not already in the shape
they store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from storage.models import Contact, Customer, FollowUp

_DIGITS = "0123456789"


def _strip(col: ColumnElement, chars: str) -> ColumnElement:
    """`col` without any of `chars` (nested `replace`: the same SQL on SQLite and PostgreSQL)."""
    for ch in chars:
        col = func.replace(col, ch, "")
    return col


def _stored_shape(p: ColumnElement) -> ColumnElement[bool]:
    """A phone as the phone validator stores it, already normalised: 11 digits starting with 1, or + and 7–15
    digits (not +86: the validator keeps a Chinese mobile without it)."""
    rest = _strip(p, _DIGITS)
    mobile = and_(rest == "", func.length(p) == 11, p.like("1%"))
    e164 = and_(rest == "+", p.like("+%"), ~p.like("+0%"), ~p.like("+86%"), func.length(p).between(8, 16))
    return or_(mobile, e164)


# ---------------------------------------------------------------- likely duplicates


def duplicate_keys(session: Session, *, where: ColumnElement[bool], min_phone: int) -> list[tuple[str, str, int]]:
    """(kind, key, customer id) for every key two or more customers matching `where` share: the
    normalised name (`name`), a contact's phone or e-mail in the searchable forms every save keeps
    (`contact.phone_norm` / `email_norm`: `138-0013-8000` = `+86 13800138000`); a phone shorter than `min_phone`
    digits (an extension, a typo) links nobody."""
    out: list[tuple[str, str, int]] = []
    names = (select(Customer.name_norm).where(where, Customer.name_norm != "")
             .group_by(Customer.name_norm).having(func.count() > 1))
    out += [("name", k, i) for k, i in session.execute(
        select(Customer.name_norm, Customer.id).where(where, Customer.name_norm.in_(names)))]
    for kind, key, usable in (("phone", Contact.phone_norm, func.length(Contact.phone_norm) >= min_phone),
                              ("email", Contact.email_norm, Contact.email_norm != "")):
        shared = (select(key).join(Customer, Customer.id == Contact.customer_id)
                  .where(where, key.is_not(None), usable).group_by(key)
                  .having(func.count(func.distinct(Contact.customer_id)) > 1))
        out += [(kind, k, i) for k, i in session.execute(
            select(key, Customer.id).join(Customer, Customer.id == Contact.customer_id)
            .where(where, key.in_(shared)).distinct())]
    return out


def customers(session: Session, ids: Sequence[int]) -> list[Customer]:
    """The customers with these ids, by id (the order they were registered in)."""
    if not ids:
        return []
    return list(session.scalars(select(Customer).where(Customer.id.in_(list(ids))).order_by(Customer.id)))


# ---------------------------------------------------------------- contact data


def _reachable() -> ColumnElement[bool]:
    """The customer has a contact with a phone or an email."""
    return exists().where(Contact.customer_id == Customer.id,
                          or_(func.length(func.trim(func.coalesce(Contact.phone, ""))) > 0,
                              func.length(func.trim(func.coalesce(Contact.email, ""))) > 0))


def missing_contact(session: Session, *, where: ColumnElement[bool], limit: int
                    ) -> tuple[int, int, list[tuple[Customer, bool]]]:
    """(without any contact person, with contacts but no phone and no email, the first `limit` of both,
    oldest first: (customer, has a contact person))."""
    any_contact = exists().where(Contact.customer_id == Customer.id)
    rows = session.execute(  # one pass: the first rows, each carrying the totals (window counts)
        select(Customer.id, any_contact, func.count().over(), func.sum(case((any_contact, 1), else_=0)).over())
        .where(where, ~_reachable()).order_by(Customer.id).limit(limit)).all()
    if not rows:
        return 0, 0, []
    total, with_contact = rows[0][2], int(rows[0][3] or 0)
    loaded = {c.id: c for c in customers(session, [r[0] for r in rows])}
    return total - with_contact, with_contact, [(loaded[r[0]], bool(r[1])) for r in rows]


def odd_phones(session: Session, *, where: ColumnElement[bool]) -> list[tuple[Customer, Contact]]:
    """The contacts whose phone is not in the shape the phone validator stores (`_stored_shape`): the few the
    validator then checks."""
    p = func.coalesce(Contact.phone, "")
    q = (select(Customer, Contact).join(Contact, Contact.customer_id == Customer.id)
         .where(where, func.length(func.trim(p)) > 0, ~_stored_shape(p))
         .order_by(Customer.id, Contact.id))
    return [(c, k) for c, k in session.execute(q).all()]


def emails(session: Session, *, where: ColumnElement[bool]) -> list[tuple[int, str]]:
    """(contact id, email) of every contact with an email: the email validator's pattern has no SQL twin
    on both databases, so it runs over these (one column, no objects built)."""
    q = (select(Contact.id, Contact.email).join(Customer, Customer.id == Contact.customer_id)
         .where(where, func.length(func.trim(func.coalesce(Contact.email, ""))) > 0))
    return [(i, e) for i, e in session.execute(q)]


def contacts_with_customers(session: Session, contact_ids: Sequence[int]) -> list[tuple[Customer, Contact]]:
    if not contact_ids:
        return []
    q = (select(Customer, Contact).join(Contact, Contact.customer_id == Customer.id)
         .where(Contact.id.in_(list(contact_ids))).order_by(Customer.id, Contact.id))
    return [(c, k) for c, k in session.execute(q).all()]


# ---------------------------------------------------------------- follow-ups and cadence


def vague_followups(session: Session, *, where: ColumnElement[bool], phrases: Sequence[str], trailing: str,
                    min_chars: int, limit: int) -> tuple[int, list[tuple[FollowUp, Customer]]]:
    """(how many, the latest `limit`) of the live follow-ups of customers matching `where` whose content is
    empty, one of `phrases` (lower-cased, trimmed, without `trailing` punctuation) or under `min_chars`."""
    body = func.trim(FollowUp.content)
    key = func.trim(func.rtrim(func.lower(body), trailing))
    cond = and_(where, FollowUp.deleted_at.is_(None),
                or_(func.length(body) < min_chars, key == "", key.in_(list(phrases))))
    first = session.execute(  # one pass: the latest ids, each carrying the total (a window count)
        select(FollowUp.id, func.count().over()).join(Customer, Customer.id == FollowUp.customer_id).where(cond)
        .order_by(FollowUp.date.desc(), FollowUp.id.desc()).limit(limit)).all()
    if not first:
        return 0, []
    rows = session.execute(select(FollowUp, Customer).join(Customer, Customer.id == FollowUp.customer_id)
                           .where(FollowUp.id.in_([i for i, _ in first]))
                           .order_by(FollowUp.date.desc(), FollowUp.id.desc())).all()
    return first[0][1], [(fu, c) for fu, c in rows]


def stale(session: Session, *, where: ColumnElement[bool], before: datetime, limit: int
          ) -> tuple[int, list[Customer]]:
    """(how many, the `limit` longest untouched) owned customers, not lost, whose last follow-up — or, with
    none, their registration — is before `before`."""
    last = func.coalesce(Customer.last_followup_at, Customer.created_at)
    cond = and_(where, Customer.owner_id.is_not(None), Customer.type != "lost", last < before)
    first = session.execute(select(Customer.id, func.count().over()).where(cond)
                            .order_by(last, Customer.id).limit(limit)).all()
    loaded = {c.id: c for c in customers(session, [i for i, _ in first])}
    return (first[0][1] if first else 0), [loaded[i] for i, _ in first]

