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


def phone_key() -> ColumnElement:
    """A contact's phone as `handlers.lookup.normalize_phone` has it: no spaces, dashes, brackets or dots, and
    without a leading +86."""
    bare = _strip(Contact.phone, " -().\t")
    return case((bare.like("+86%"), func.substr(bare, 4)), else_=bare)


def email_key() -> ColumnElement:
    return func.lower(func.trim(Contact.email))


# ---------------------------------------------------------------- likely duplicates


def duplicate_keys(session: Session, *, where: ColumnElement[bool], min_phone: int = 6
                   ) -> list[tuple[str, str, int, datetime]]:
    """(kind, key, customer id, registered) for every key two or more customers matching `where` share: the
    normalised name (`name`), a contact's phone (`phone`, at least `min_phone` characters) or email (`email`)."""
    out: list[tuple[str, str, int, datetime]] = []
    names = (select(Customer.name_norm).where(where, Customer.name_norm != "")
             .group_by(Customer.name_norm).having(func.count() > 1))
    out += [("name", k, i, at) for k, i, at in session.execute(
        select(Customer.name_norm, Customer.id, Customer.created_at)
        .where(where, Customer.name_norm.in_(names)))]
    for kind, key, shortest in (("phone", phone_key(), min_phone), ("email", email_key(), 3)):
        sub = (select(key.label("k"), Customer.id.label("cid"), Customer.created_at.label("at"))
               .join(Customer, Customer.id == Contact.customer_id)
               .where(where, key.is_not(None), func.length(key) >= shortest)).subquery()
        shared = select(sub.c.k).group_by(sub.c.k).having(func.count(func.distinct(sub.c.cid)) > 1)
        out += [(kind, k, i, at) for k, i, at in session.execute(
            select(sub.c.k, sub.c.cid, sub.c.at).where(sub.c.k.in_(shared)).distinct())]
    return out


def customers(session: Session, ids: Sequence[int]) -> list[Customer]:
    """The customers with these ids, oldest first."""
    if not ids:
        return []
    return list(session.scalars(select(Customer).where(Customer.id.in_(list(ids)))
                                .order_by(Customer.created_at, Customer.id)))


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
    has = any_contact.label("has")
    cond = and_(where, ~_reachable())
    none, unreachable = session.execute(
        select(func.count().filter(~any_contact), func.count().filter(any_contact)).select_from(Customer)
        .where(cond)).one()
    rows = session.execute(select(Customer, has).where(cond).order_by(Customer.created_at, Customer.id)
                           .limit(limit)).all()
    return none, unreachable, [(c, bool(h)) for c, h in rows]


def odd_phones(session: Session, *, where: ColumnElement[bool]) -> list[tuple[Customer, Contact]]:
    """The contacts whose phone is not in a shape the phone validator stores (11 digits starting with 1, or
    + and 7–15 digits): the validator then decides which of these few are invalid."""
    p = func.coalesce(Contact.phone, "")
    rest = _strip(p, _DIGITS)
    mobile = and_(rest == "", func.length(p) == 11, p.like("1%"))
    e164 = and_(rest == "+", p.like("+%"), ~p.like("+0%"), func.length(p).between(8, 16))
    q = (select(Customer, Contact).join(Contact, Contact.customer_id == Customer.id)
         .where(where, func.length(func.trim(p)) > 0, ~or_(mobile, e164))
         .order_by(Customer.created_at, Customer.id, Contact.id))
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
         .where(Contact.id.in_(list(contact_ids))).order_by(Customer.created_at, Customer.id, Contact.id))
    return [(c, k) for c, k in session.execute(q).all()]


# ---------------------------------------------------------------- follow-ups and cadence


def vague_followups(session: Session, *, where: ColumnElement[bool], phrases: Sequence[str], trailing: str,
                    min_chars: int, limit: int) -> tuple[int, list[tuple[FollowUp, Customer]]]:
    """(how many, the latest `limit`) of the live follow-ups of customers matching `where` whose content is
    empty, one of `phrases` (lower-cased, trimmed, without `trailing` punctuation) or under `min_chars`."""
    body = func.trim(FollowUp.content)
    key = func.trim(func.rtrim(func.lower(body), trailing))
    cond = and_(where, FollowUp.deleted_at.is_(None),
                or_(key == "", key.in_(list(phrases)), func.length(body) < min_chars))
    base = select(FollowUp, Customer).join(Customer, Customer.id == FollowUp.customer_id).where(cond)
    n = session.scalar(select(func.count()).select_from(FollowUp)
                       .join(Customer, Customer.id == FollowUp.customer_id).where(cond)) or 0
    rows = session.execute(base.order_by(FollowUp.date.desc(), FollowUp.id.desc()).limit(limit)).all()
    return n, [(fu, c) for fu, c in rows]


def stale(session: Session, *, where: ColumnElement[bool], before: datetime, limit: int
          ) -> tuple[int, list[Customer]]:
    """(how many, the `limit` longest untouched) owned customers, not lost, whose last follow-up — or, with
    none, their registration — is before `before`."""
    last = func.coalesce(Customer.last_followup_at, Customer.created_at)
    cond = and_(where, Customer.owner_id.is_not(None), Customer.type != "lost", last < before)
    n = session.scalar(select(func.count()).select_from(Customer).where(cond)) or 0
    rows = session.scalars(select(Customer).where(cond).order_by(last, Customer.id).limit(limit))
    return n, list(rows)

