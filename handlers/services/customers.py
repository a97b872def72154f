"""Customers: create (with a duplicate check), read their fields and tags, and change them with an audit
entry per field. Key fields of a `deal` customer changed by a rep go through an approval
(`handlers.services.approvals`); nothing changes until the manager approves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlmodel import Session

from handlers import inputs
from handlers.context import Ctx
from handlers.errors import Forbidden, InvalidInput, NotFound, UserError
from handlers.lookup import normalize_name
from handlers.permissions import can_edit_customer, can_see_customer, is_manager_of
from handlers.services import audit
from handlers.services.customer_fields import (
    parse_email,
    parse_grade,
    parse_industry,
    parse_name,
    parse_owner,
    parse_phone,
    parse_tags,
    parse_text,
    parse_type,
)
from handlers.services.followup_owed import move_owed
from handlers.settings import DomainSettings
from storage import codes
from storage.db import insert_ignore
from storage.models import Contact, Customer, CustomerTag, FollowUp, Staff, Tag

FIELD_KEYS = {
    "name": "name", "名称": "name", "客户名称": "name", "industry": "industry", "行业": "industry",
    "type": "type", "类型": "type", "客户类型": "type", "contact": "contact", "联系人": "contact",
    "title": "title", "职位": "title", "phone": "phone", "mobile": "phone", "tel": "phone", "电话": "phone",
    "手机": "phone", "email": "email", "邮箱": "email", "address": "address", "地址": "address",
    "tags": "tags", "tag": "tags", "标签": "tags", "source": "source", "来源": "source", "demand": "demand",
    "需求": "demand", "notes": "notes", "note": "notes", "备注": "notes", "owner": "owner", "负责人": "owner",
    "grade": "grade", "等级": "grade",
}
PARSERS = {
    "name": parse_name, "industry": parse_industry, "type": parse_type, "contact": parse_text(100),
    "title": parse_text(100), "phone": parse_phone, "email": parse_email, "address": parse_text(500),
    "tags": parse_tags, "source": parse_text(100), "demand": parse_text(3000), "notes": parse_text(3000),
    "owner": parse_owner, "grade": parse_grade,
}
REQUIRED = ("name", "industry", "type")
EDITABLE = ("name", "industry", "type", "grade", "contact", "title", "phone", "email", "address", "tags",
            "source", "demand", "notes", "owner")
KEY_FIELDS = frozenset({"name", "contact", "title", "phone", "email", "type", "add_contact"})
CONTACT_FIELDS = {"contact": "name", "title": "title", "phone": "phone", "email": "email"}


def parse_fields(ctx: Ctx, kv: dict[str, str], parsers: dict | None = None, *,
                 label_prefix: str = "cust.f.") -> dict[str, Any]:
    """Validate typed `key=value` pairs; the first bad one raises, naming the field."""
    parsers = parsers or PARSERS
    out: dict[str, Any] = {}
    for k, raw in kv.items():
        try:
            out[k] = parsers[k](ctx, raw, out)
        except UserError as e:
            raise InvalidInput("cust.err.field", field=ctx.t(f"{label_prefix}{k}"),
                               error=ctx.t(e.key, **e.params)) from None
    return out


# ---------------------------------------------------------------- reading


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
    pc = primary_contact(session, c.id)
    return {"name": c.name, "industry": c.industry, "type": c.type, "grade": c.grade,
            "contact": pc.name if pc else None, "title": pc.title if pc else None,
            "phone": pc.phone if pc else None, "email": pc.email if pc else None, "address": c.address,
            "tags": tags_of(session, c.id), "source": c.source, "demand": c.demand, "notes": c.notes,
            "owner": c.owner_id}


def get_visible(ctx: Ctx, code: str) -> Customer:
    """A customer by exact code, only if the actor may see it (else exactly like a missing one)."""
    c = ctx.session.scalar(select(Customer).where(func.upper(Customer.code) == inputs.key(code).upper()))
    if c is None or not can_see_customer(ctx, c):
        raise NotFound("lookup.not_found", query=code)
    return c


def find_duplicates(session: Session, *, name: str | None = None, phone: str | None = None,
                    email: str | None = None) -> list[Customer]:
    """Every customer (whoever owns it) with the same normalized name, a contact's phone or email."""
    conds = []
    if name and normalize_name(name):
        conds.append(Customer.name_norm == normalize_name(name))
    contact = []
    if phone:
        contact.append(Contact.phone == phone)
    if email:
        contact.append(func.lower(Contact.email) == email.lower())
    if contact:
        conds.append(Customer.id.in_(select(Contact.customer_id).where(or_(*contact))))
    if not conds:
        return []
    return list(session.scalars(select(Customer).where(or_(*conds)).order_by(Customer.id).limit(10)))


# ---------------------------------------------------------------- writing


def set_tags(session: Session, customer_id: int, tags: list[str]) -> None:
    session.execute(delete(CustomerTag).where(CustomerTag.customer_id == customer_id))
    for name in tags:
        insert_ignore(session, Tag, conflict=["name"], name=name)  # two units of work may name a new tag at once
        tag_id = session.scalar(select(Tag.id).where(Tag.name == name))
        session.add(CustomerTag(customer_id=customer_id, tag_id=tag_id))
    session.flush()


def _check_owner(ctx: Ctx, owner_id: int) -> Staff:
    owner = ctx.session.get(Staff, owner_id)
    if ctx.role not in ("manager", "admin"):
        raise Forbidden("cust.err.owner_forbidden")
    if owner is None or not owner.active or owner.role not in ("rep", "manager", "admin"):
        raise InvalidInput("cust.err.owner_role")
    if ctx.role == "manager" and not is_manager_of(ctx, owner.id):
        raise Forbidden("cust.err.owner_team", name=owner.name)
    return owner


def create_customer(ctx: Ctx, values: dict[str, Any]) -> Customer:
    """Save a new customer (values already validated). Owner: the creator, or `owner` set by a manager."""
    missing = [f for f in REQUIRED if not values.get(f)]
    if missing:
        raise InvalidInput("cust.err.missing", fields=", ".join(ctx.t(f"cust.f.{f}") for f in missing))
    owner_id = ctx.staff.id
    if values.get("owner") and values["owner"] != ctx.staff.id:
        owner_id = _check_owner(ctx, values["owner"]).id
    s, now = ctx.session, ctx.now
    c = Customer(code=codes.customer_code(s, abbr=ctx.settings.company_abbr, year=now.astimezone(ctx.tz).year),
                 name=values["name"], name_norm=normalize_name(values["name"]), industry=values["industry"],
                 type=values["type"], address=values.get("address"), demand=values.get("demand"),
                 source=values.get("source"), notes=values.get("notes"), owner_id=owner_id,
                 created_by_id=ctx.staff.id, created_at=now, updated_at=now)
    if values.get("grade") and values["grade"] != "auto":
        if ctx.role not in ("manager", "admin"):
            raise Forbidden("cust.err.grade_forbidden")
        c.grade, c.grade_locked = values["grade"], True
    s.add(c)
    s.flush()
    if any(values.get(f) for f in CONTACT_FIELDS):
        s.add(Contact(customer_id=c.id, name=values.get("contact") or values["name"], title=values.get("title"),
                      phone=values.get("phone"), email=values.get("email"), is_primary=True, created_at=now))
    if values.get("tags"):
        set_tags(s, c.id, values["tags"])
    audit.record(s, actor_id=ctx.staff.id, action="create", entity="customer", entity_id=c.id,
                 entity_code=c.code, new=c.name, now=now)
    s.flush()
    return c


def _set_contact(session: Session, c: Customer, field: str, value: Any, now: datetime) -> None:
    pc = primary_contact(session, c.id)
    if pc is None:
        pc = Contact(customer_id=c.id, name=c.name, is_primary=True, created_at=now)
        session.add(pc)
    setattr(pc, CONTACT_FIELDS[field], value)


def _staff_name(session: Session, staff_id: int | None) -> str | None:
    st = session.get(Staff, staff_id) if staff_id else None
    return st.name if st else None


def apply_changes(session: Session, c: Customer, changes: dict[str, Any], *, actor_id: int | None,
                  now: datetime, settings: DomainSettings) -> dict[str, tuple[Any, Any]]:
    """Write the changed fields with one audit entry each. Returns {field: (old, new)} of real changes."""
    cur = current_values(session, c)
    done: dict[str, tuple[Any, Any]] = {}
    for f, new in changes.items():
        old = cur.get(f)
        if f == "grade" and new == "auto":
            from handlers.services.purchases import grade_by_purchases

            c.grade_locked = False
            new = grade_by_purchases(session, c, now=now, settings=settings)
        elif f == "grade":
            c.grade_locked = True
        if new == old:
            continue
        if f == "add_contact":
            session.add(Contact(customer_id=c.id, name=new["contact"], title=new.get("title"),
                                phone=new.get("phone"), email=new.get("email"), created_at=now))
            new = " · ".join(str(v) for v in new.values() if v)
        elif f in CONTACT_FIELDS:
            _set_contact(session, c, f, new, now)
        elif f == "tags":
            set_tags(session, c.id, new)
        elif f == "owner":
            c.owner_id, c.pooled_at = new, None
            move_owed(session, where=FollowUp.customer_id == c.id, to=session.get(Staff, new) if new else None,
                      actor_id=actor_id, action="update", now=now)
            old, new = (_staff_name(session, x) for x in (old, new))
        else:
            setattr(c, f, new)
            if f == "name":
                c.name_norm = normalize_name(new)
        audit.record(session, actor_id=actor_id, action="update", entity="customer", entity_id=c.id,
                     entity_code=c.code, field=f, old=old, new=new, now=now)
        done[f] = (old, new)
    if done:
        c.updated_at = now
    session.flush()
    return done


def edit_customer(ctx: Ctx, c: Customer, changes: dict[str, Any]):  # noqa: ANN201
    """Apply `changes` as the actor may. Returns (applied {field: (old, new)}, ApprovalRequest | None)."""
    if not can_see_customer(ctx, c):
        raise NotFound("lookup.not_found", query=c.code)
    if not can_edit_customer(ctx, c):
        raise Forbidden("cust.err.edit_forbidden")
    if "grade" in changes and ctx.role not in ("manager", "admin"):
        raise Forbidden("cust.err.grade_forbidden")
    if changes.get("owner") is not None:
        _check_owner(ctx, changes["owner"])
    cur = current_values(ctx.session, c)
    changes = {k: v for k, v in changes.items() if v != cur.get(k) or k == "grade"}
    held = {}
    if c.type == "deal" and ctx.role == "rep":
        held = {k: v for k, v in changes.items() if k in KEY_FIELDS}
    rest = {k: v for k, v in changes.items() if k not in held}
    applied = apply_changes(ctx.session, c, rest, actor_id=ctx.staff.id, now=ctx.now, settings=ctx.settings)
    request = None
    if held:
        from handlers.services.approvals import request_approval

        request = request_approval(ctx, c, {k: [cur.get(k), v] for k, v in held.items()})
    return applied, request
