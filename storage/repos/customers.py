"""Customer reads: by code, contacts, tags, the current field values, possible duplicates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, column, func, literal, or_, select, table, union, union_all
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from storage import textindex
from storage.models import ApprovalRequest, Contact, Customer, CustomerTag, Purchase, Tag


def get_by_code(session: Session, *, code: str, where: ColumnElement[bool] | None = None) -> Customer | None:
    """A customer by exact code (any case: codes are stored in capitals, so the unique index is used), narrowed
    by `where` (e.g. what the actor may see)."""
    q = select(Customer).where(Customer.code == code.strip().upper())
    if where is not None:
        q = q.where(where)
    return session.scalar(q)


def match_keys(session: Session, *, codes: list[str], names: list[str], phones: list[str]
               ) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """The ids of the customers with one of `codes`, normalised `names` or contact `phones` (the oldest
    customer first wins a name or phone): what an import's batch of rows is matched against, in three indexed
    queries, whatever the size of the database."""
    by_code: dict[str, int] = {}
    if codes:  # a merged customer's code stands for the customer it was merged into
        by_code.update((code, cid) for code, cid in session.execute(
            select(Customer.code, func.coalesce(Customer.merged_into_id, Customer.id)).where(Customer.code.in_(codes))))
    by_name: dict[str, int] = {}
    if names:
        q = (select(Customer.name_norm, Customer.id).where(Customer.name_norm.in_(names), Customer.merged_into_id.is_(None))
             .order_by(Customer.id))
        for name, cid in session.execute(q):
            by_name.setdefault(name, cid)
    by_phone: dict[str, int] = {}
    if phones:
        q = (select(Contact.phone, Contact.customer_id).join(Customer, Customer.id == Contact.customer_id)
             .where(Contact.phone.in_(phones), Customer.merged_into_id.is_(None))
             .order_by(Contact.customer_id, Contact.id))
        for phone, cid in session.execute(q):
            by_phone.setdefault(phone, cid)
    return by_code, by_name, by_phone


def primary_contact(session: Session, customer_id: int) -> Contact | None:
    return session.scalar(select(Contact).where(Contact.customer_id == customer_id)
                          .order_by(Contact.is_primary.desc(), Contact.id).limit(1))


def contacts_of(session: Session, customer_id: int) -> list[Contact]:
    return list(session.scalars(select(Contact).where(Contact.customer_id == customer_id)
                                .order_by(Contact.is_primary.desc(), Contact.id)))


def tags_of(session: Session, customer_id: int) -> list[str]:
    q = (select(Tag.name).join(CustomerTag, CustomerTag.tag_id == Tag.id)
         .where(CustomerTag.customer_id == customer_id).order_by(Tag.name))
    return list(session.scalars(q))


def current_values(session: Session, c: Customer) -> dict[str, Any]:
    """The editable fields of a customer as the edit paths compare them (`owner`: the owner's id)."""
    return _values(c, primary_contact(session, c.id), tags_of(session, c.id))


def current_values_many(session: Session, ids: list[int]) -> dict[int, tuple[Customer, dict[str, Any]]]:
    """id → (customer, `current_values`) for a batch of customers, in three queries (an import's batch)."""
    if not ids:
        return {}
    customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(ids)))}
    primary: dict[int, Contact] = {}
    for k in session.scalars(select(Contact).where(Contact.customer_id.in_(ids))
                             .order_by(Contact.customer_id, Contact.is_primary.desc(), Contact.id)):
        primary.setdefault(k.customer_id, k)
    tags: dict[int, list[str]] = {}
    q = (select(CustomerTag.customer_id, Tag.name).join(Tag, Tag.id == CustomerTag.tag_id)
         .where(CustomerTag.customer_id.in_(ids)).order_by(Tag.name))
    for cid, name in session.execute(q):
        tags.setdefault(cid, []).append(name)
    return {cid: (c, _values(c, primary.get(cid), tags.get(cid, []))) for cid, c in customers.items()}


def _values(c: Customer, pc: Contact | None, tags: list[str]) -> dict[str, Any]:
    return {"name": c.name, "industry": c.industry, "type": c.type, "grade": c.grade,
            "contact": pc.name if pc else None, "title": pc.title if pc else None,
            "phone": pc.phone if pc else None, "email": pc.email if pc else None, "address": c.address,
            "tags": tags, "source": c.source, "demand": c.demand, "notes": c.notes, "owner": c.owner_id}


def find_duplicates(session: Session, *, name_norm: str | None = None, phone: str | None = None,
                    email: str | None = None) -> list[Customer]:
    """Every customer (whoever owns it) with the same normalized name, a contact's phone or email."""
    conds = []
    if name_norm:
        conds.append(Customer.name_norm == name_norm)
    contact = []
    if phone:
        contact.append(Contact.phone_norm == textindex.normalize_phone(phone))
    if email:
        contact.append(Contact.email_norm == textindex.normalize_email(email))
    if contact:
        conds.append(Customer.id.in_(select(Contact.customer_id).where(or_(*contact))))
    if not conds:
        return []
    return list(session.scalars(select(Customer).where(or_(*conds), Customer.merged_into_id.is_(None))
                                .order_by(Customer.id).limit(10)))


def purchases_of(session: Session, customer_id: int) -> list[Purchase]:
    """A customer's purchases, newest first."""
    return list(session.scalars(select(Purchase).where(Purchase.customer_id == customer_id)
                                .order_by(Purchase.date.desc(), Purchase.id.desc())))


YEAR = timedelta(days=365)


def yearly_amount(session: Session, customer_id: int, *, now: datetime) -> Decimal:
    """The total of a customer's purchases dated within the 365 days up to `now` (the grading year)."""
    return yearly_amounts(session, [customer_id], now=now).get(customer_id, Decimal(0))


def yearly_amounts(session: Session, ids: list[int], *, now: datetime) -> dict[int, Decimal]:
    """`yearly_amount` of a batch of customers in one query (those without a purchase in the year: absent)."""
    q = (select(Purchase.customer_id, func.sum(Purchase.amount))
         .where(Purchase.customer_id.in_(ids), Purchase.date > now - YEAR, Purchase.date <= now)
         .group_by(Purchase.customer_id))
    return {cid: Decimal(str(total or 0)) for cid, total in session.execute(q)} if ids else {}


def with_tag(tag: str) -> ColumnElement[bool]:
    """A WHERE clause: customers carrying `tag`."""
    return Customer.id.in_(select(CustomerTag.customer_id).join(Tag, Tag.id == CustomerTag.tag_id)
                           .where(Tag.name == tag))


def search(session: Session, *, where: list, ids: list[int] | None = None, limit: int = 1000) -> list[Customer]:
    """Customers matching every clause of `where` (and among `ids` when given: those, in no particular
    order), by code."""
    q = select(Customer).where(*where)
    if ids is not None:
        return list(session.scalars(q.where(Customer.id.in_(ids))))
    return list(session.scalars(q.order_by(Customer.code).limit(limit)))


def list_pool(session: Session, *, where: list, code: str | None = None, name_norm: str | None = None,
              limit: int = 2000) -> list[Customer]:
    """Customers without an owner matching `where` and, when given, the code or a part of the normalized
    name; the latest pooled first."""
    q = select(Customer).where(Customer.owner_id.is_(None), Customer.merged_into_id.is_(None), *where)
    if code is not None:
        q = q.where(or_(Customer.code == code.upper(),
                        Customer.name_norm.contains(name_norm, autoescape=True) if name_norm else literal(False)))
    return list(session.scalars(q.order_by(Customer.pooled_at.desc(), Customer.code).limit(limit)))


def pending_approvals(session: Session, *, approver_or_team: tuple[int, set[int]] | None = None
                      ) -> list[tuple[ApprovalRequest, Customer]]:
    """Pending approval requests with their customers, oldest first; with `(approver_id, team_ids)` only those
    addressed to that approver or about a customer owned in that team."""
    q = (select(ApprovalRequest, Customer).join(Customer, Customer.id == ApprovalRequest.customer_id)
         .where(ApprovalRequest.status == "pending"))
    if approver_or_team is not None:
        approver_id, team = approver_or_team
        q = q.where(or_(ApprovalRequest.approver_id == approver_id, Customer.owner_id.in_(team)))
    return [(r, c) for r, c in session.execute(q.order_by(ApprovalRequest.created_at, ApprovalRequest.id)).all()]


def pending_approval_ids(session: Session, customer_id: int) -> list[int]:
    """Ids of the customer's pending approval requests, oldest first."""
    return list(session.scalars(select(ApprovalRequest.id).where(ApprovalRequest.customer_id == customer_id,
                                                               ApprovalRequest.status == "pending")
                                .order_by(ApprovalRequest.id)))


def tag_id(session: Session, name: str) -> int | None:
    return session.scalar(select(Tag.id).where(Tag.name == name))


def tag_ids(session: Session, names: list[str]) -> dict[str, int]:
    """name → id of the tags among `names` that exist (an import's batch, in one query)."""
    return {n: i for i, n in session.execute(select(Tag.id, Tag.name).where(Tag.name.in_(names)))} if names else {}


def codes_owned_by(session: Session, staff_id: int) -> list[tuple[int, str]]:
    """(id, code) of the customers `staff_id` owns."""
    return [tuple(r) for r in session.execute(select(Customer.id, Customer.code).where(
        Customer.owner_id == staff_id, Customer.merged_into_id.is_(None))).all()]


def list_stale(session: Session, *, before: datetime) -> list[Customer]:
    """Owned customers whose last follow-up (or, without one, creation) is before `before`, by id."""
    last = func.coalesce(Customer.last_followup_at, Customer.created_at)
    return list(session.scalars(select(Customer).where(Customer.owner_id.is_not(None), last < before,
                                                       Customer.merged_into_id.is_(None))
                                .order_by(Customer.id)))


def name_contains(session: Session, fragment: str) -> Select:
    """SELECT of the ids of the customers whose normalised name contains `fragment` (not empty), through the
    text index when the fragment is long enough for it (`storage.textindex`)."""
    if len(fragment) >= textindex.MIN_FRAGMENT and session.get_bind().dialect.name == "sqlite":
        return select(_FTS.c.rowid).where(_FTS.c[textindex.FTS].op("MATCH")(textindex.fts_phrase(fragment)))
    return select(Customer.id).where(Customer.name_norm.contains(fragment, autoescape=True))  # pg_trgm's GIN


_FTS = table(textindex.FTS, column("rowid"), column(textindex.FTS))


SEARCH_CAP = 1000  # the most name matches a search ranks (by id, as the index returns them); more shows as "1000+"
SHORT_CAP = 200  # the same for 1–2 characters, found by a scan (~5 ms at 1M for a common one, 1000: ~14 ms)


@dataclass(frozen=True)
class Matches:
    """One page of a search, best first, and how many matched in all (`capped`: at least that many)."""

    page: list[Customer]
    total: int
    capped: bool


def match_text(session: Session, *, where: list, name_norm: str, text: str, phone: str | None,
               offset: int = 0, limit: int = 10, cap: int | None = None) -> Matches:
    """The customers (matching every clause of `where`) whose normalized name contains `name_norm`, or with a
    contact named `text`, with the phone `phone` or the e-mail `text` (normalised keys, compared with `=`):
    ranked in SQL (the exact name first, then names starting with it, then the shorter names, then by id) and
    only the page `offset`, `limit` read as rows.

    Name matches: the first `cap` ids in the text index's order (SQLite: the FTS5 trigram index; PostgreSQL:
    whichever `cap` the planner finds first, through the pg_trgm index or a scan that stops early — past `cap`
    matches, which ones are ranked may vary; 1–2 characters on both engines: a scan of the names in id order
    that stops when `SHORT_CAP` are found), plus the exact
    name and (SQLite) up to `cap` names starting with it through the name index, wherever they sit. Contacts
    through the contact indexes. More than `cap` name matches: `capped`, the total is "at least"."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    short = len(name_norm) < textindex.MIN_FRAGMENT
    cap = cap or (SHORT_CAP if short else SEARCH_CAP)
    parts = []
    if name_norm:
        contains = Customer.name_norm.contains(name_norm, autoescape=True)
        if short:  # no index can look it up: a scan in id order that stops when `cap` are found. PostgreSQL
            # estimates a LIKE on the pg_trgm statistics and reads the whole table for a common fragment (120 ms
            # at 1M); strpos() it cannot estimate, so it walks the primary key and stops (2 ms)
            found = contains if sqlite else func.strpos(Customer.name_norm, name_norm) > 0
            by_name = select(Customer.id).where(*where, found).order_by(Customer.id).limit(cap)
        elif sqlite:
            by_name = (select(Customer.id).join(_FTS, _FTS.c.rowid == Customer.id)
                       .where(*where, _FTS.c[textindex.FTS].op("MATCH")(textindex.fts_phrase(name_norm)))
                       .order_by(_FTS.c.rowid).limit(cap))  # the index's own order: reads `cap` ids at most
        else:  # no ORDER BY: the planner takes the pg_trgm index for a rare fragment and stops a scan early for
            # a common one, instead of walking the primary key past every row (ORDER BY id LIMIT: 0.2–0.5 s)
            by_name = select(Customer.id).where(*where, contains).limit(cap)
        by_name = by_name.subquery()
        parts += [select(by_name.c.id), select(Customer.id).where(*where, Customer.name_norm == name_norm)]
        if sqlite:  # the names starting with it, wherever they are: a range of the name index (code point order)
            starts = (select(Customer.id).where(Customer.name_norm >= name_norm,
                                                Customer.name_norm < name_norm + "\U0010ffff")
                      .order_by(Customer.name_norm).limit(cap).subquery())  # `where` outside: the index first
            parts.append(select(Customer.id).where(*where, Customer.id.in_(select(starts.c.id))))
    contact = [Contact.name == text, Contact.email_norm == textindex.normalize_email(text)]
    if phone:
        contact.append(Contact.phone_norm == textindex.normalize_phone(phone))
    parts.append(select(Customer.id).where(*where, Customer.id.in_(select(Contact.customer_id)
                                                                    .where(or_(*contact)))))
    found = union(*parts).subquery()
    rank = (case((Customer.name_norm == name_norm, 0), else_=1),
            case((Customer.name_norm.startswith(name_norm, autoescape=True), 0), else_=1) if name_norm else literal(0),
            func.length(Customer.name), Customer.id)
    q = select(Customer, func.count().over()).where(Customer.id.in_(select(found.c.id))).order_by(*rank)
    rows = session.execute(q.offset(offset).limit(limit)).all()
    if not rows and offset:
        total = session.scalar(select(func.count()).select_from(found)) or 0
    else:
        total = rows[0][1] if rows else 0
    return Matches([c for c, _ in rows], total, bool(name_norm) and total >= cap)


def names_sharing(session: Session, *, where: ColumnElement[bool], pieces: list[str], need: int,
                  limit: int = 200) -> list[tuple[int, str]]:
    """(id, normalized name) of the customers (matching `where`) whose name contains at least `need` of
    `pieces`, the most first (then by id). Pieces of 3 characters are looked up in the text index, one list of
    ids each, counted; shorter ones by a scan of the names."""
    if all(len(p) >= textindex.MIN_FRAGMENT for p in pieces):
        hits = union_all(*(name_contains(session, p) for p in pieces)).subquery()
        hit_id = hits.c[0]
        counted = (select(hit_id.label("id"), func.count().label("n")).group_by(hit_id)
                   .having(func.count() >= need).subquery())
        q = (select(Customer.id, Customer.name_norm).join(counted, counted.c.id == Customer.id).where(where)
             .order_by(counted.c.n.desc(), Customer.id).limit(limit))
    else:
        score = sum((case((Customer.name_norm.contains(g, autoescape=True), 1), else_=0) for g in pieces),
                    literal(0))
        q = (select(Customer.id, Customer.name_norm).where(where, score >= need).order_by(score.desc(), Customer.id)
             .limit(limit))
    return [(i, n) for i, n in session.execute(q).all()]


def names_by_norm(session: Session, ids: list[int]) -> dict[str, str]:
    """{normalized name: name} of the customers `ids`."""
    return dict(session.execute(select(Customer.name_norm, Customer.name).where(Customer.id.in_(ids))).all())


def created_between(session: Session, *, where: ColumnElement[bool], start: datetime,
                    end: datetime) -> list[tuple[str | None, str]]:
    """(source, industry) of each customer matching `where` registered in [start, end)."""
    return [tuple(r) for r in session.execute(select(Customer.source, Customer.industry).where(
        where, Customer.created_at >= start, Customer.created_at < end)).all()]


def count_by_type(session: Session, *, where: ColumnElement[bool]) -> dict[str, int]:
    """{type: how many customers matching `where` have it now}."""
    return dict(session.execute(select(Customer.type, func.count()).where(where).group_by(Customer.type)).all())


def by_codes_or_names(session: Session, *, codes: list[str], names: list[str]) -> list[Customer]:
    """The customers with one of `codes` (stored in capitals) or exactly one of `names` (an import's batch)."""
    if not codes and not names:
        return []
    return list(session.scalars(select(Customer).where(or_(Customer.code.in_(codes), Customer.name.in_(names)))))


def contacts_of_many(session: Session, ids: list[int]) -> list[Contact]:
    """The contacts of a batch of customers (primary first, then in the order they were added)."""
    if not ids:
        return []
    return list(session.scalars(select(Contact).where(Contact.customer_id.in_(ids))
                                .order_by(Contact.customer_id, Contact.is_primary.desc(), Contact.id)))


def purchase_keys(session: Session, ids: list[int]) -> list[tuple[int, datetime, str, Decimal]]:
    """(customer id, date, product, amount) of every purchase of a batch of customers: what an import matches
    its rows against, so a file imported twice adds nothing."""
    if not ids:
        return []
    q = select(Purchase.customer_id, Purchase.date, Purchase.product, Purchase.amount).where(
        Purchase.customer_id.in_(ids))
    return [tuple(r) for r in session.execute(q)]
