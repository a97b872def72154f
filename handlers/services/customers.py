"""Customers: create (with a duplicate check), read their fields and tags, and change them with an audit
entry per field. Key fields of a `deal` customer changed by a rep go through an approval
(`handlers.services.approvals`); nothing changes until the manager approves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from handlers import inputs
from handlers.context import Ctx
from handlers.errors import Forbidden, InvalidInput, NotFound, UserError
from handlers.lookup import normalize_name
from handlers.permissions import can_edit_customer, can_see_customer, is_manager_of
from handlers.services import audit
from handlers.services.approvals import request_approval
from handlers.services.customer_changes import CONTACT_FIELDS, apply_changes, set_tags
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
from storage import codes
from storage.models import Contact, Customer, Staff
from storage.models.customer import contact_norms
from storage.repos import customers as customer_repo

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


def get_visible(ctx: Ctx, code: str) -> Customer:
    """A customer by exact code, only if the actor may see it (else exactly like a missing one)."""
    c = customer_repo.get_by_code(ctx.session, code=inputs.key(code))
    if c is None or not can_see_customer(ctx, c):
        raise NotFound("lookup.not_found", query=code)
    return c


def find_duplicates(session: Session, *, name: str | None = None, phone: str | None = None,
                    email: str | None = None) -> list[Customer]:
    """Every customer (whoever owns it) with the same normalized name, a contact's phone or email."""
    return customer_repo.find_duplicates(session, name_norm=normalize_name(name) if name else None, phone=phone,
                                         email=email)


# ---------------------------------------------------------------- writing


def check_owner(ctx: Ctx, owner_id: int) -> Staff:
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
    c = build_customer(ctx, values)
    ctx.session.add(c)
    ctx.session.flush()
    add_details(ctx, c, values)
    ctx.session.flush()
    return c


def build_customer(ctx: Ctx, values: dict[str, Any]) -> Customer:
    """The new customer row with its code, checked as `create_customer` checks it, not yet added."""
    row = customer_row(ctx, values)
    code = codes.customer_code(ctx.session, abbr=ctx.settings.company_abbr, year=ctx.now.astimezone(ctx.tz).year)
    return Customer(code=code, **row)


def customer_row(ctx: Ctx, values: dict[str, Any]) -> dict[str, Any]:
    """A new customer's columns but its code (an import reserves a block of codes and inserts a batch of these
    at once), checked: required fields, who may set the owner and the grade."""
    missing = [f for f in REQUIRED if not values.get(f)]
    if missing:
        raise InvalidInput("cust.err.missing", fields=", ".join(ctx.t(f"cust.f.{f}") for f in missing))
    owner_id = ctx.staff.id
    if values.get("owner") and values["owner"] != ctx.staff.id:
        owner_id = check_owner(ctx, values["owner"]).id
    grade, locked = "C", False
    if values.get("grade") and values["grade"] != "auto":
        if ctx.role not in ("manager", "admin"):
            raise Forbidden("cust.err.grade_forbidden")
        grade, locked = values["grade"], True
    return {"name": values["name"], "name_norm": normalize_name(values["name"]), "industry": values["industry"],
            "type": values["type"], "grade": grade, "grade_locked": locked, "address": values.get("address"),
            "demand": values.get("demand"), "source": values.get("source"), "notes": values.get("notes"),
            "owner_id": owner_id, "created_by_id": ctx.staff.id, "created_at": ctx.now, "updated_at": ctx.now}


def contact_row(customer_id: int, values: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """A new customer's primary contact (columns), when the values name any contact field."""
    if not any(values.get(f) for f in CONTACT_FIELDS):
        return None
    return {"customer_id": customer_id, "name": values.get("contact") or values["name"], "title": values.get("title"),
            "phone": values.get("phone"), "email": values.get("email"), "is_primary": True, "created_at": now,
            **contact_norms(values.get("phone"), values.get("email"))}


def add_details(ctx: Ctx, c: Customer, values: dict[str, Any]) -> None:
    """A saved new customer's primary contact, tags and its `create` audit entry."""
    s, now = ctx.session, ctx.now
    contact = contact_row(c.id, values, now)
    if contact:
        s.add(Contact(**contact))
    if values.get("tags"):
        set_tags(s, c.id, values["tags"])
    audit.record(s, actor_id=ctx.staff.id, action="create", entity="customer", entity_id=c.id,
                 entity_code=c.code, new=c.name, now=now)


def edit_customer(ctx: Ctx, c: Customer, changes: dict[str, Any], *,  # noqa: ANN201
                  cur: dict[str, Any] | None = None, flush: bool = True):
    """Apply `changes` as the actor may. Returns (applied {field: (old, new)}, ApprovalRequest | None).
    `cur`: the customer's current values, when the caller has just read them; `flush=False`: the caller
    flushes a batch of edits at once (an import's batch)."""
    if not can_see_customer(ctx, c):
        raise NotFound("lookup.not_found", query=c.code)
    if not can_edit_customer(ctx, c):
        raise Forbidden("cust.err.edit_forbidden")
    if "grade" in changes and ctx.role not in ("manager", "admin"):
        raise Forbidden("cust.err.grade_forbidden")
    if changes.get("owner") is not None:
        check_owner(ctx, changes["owner"])
    cur = cur if cur is not None else customer_repo.current_values(ctx.session, c)
    changes = {k: v for k, v in changes.items() if v != cur.get(k) or k == "grade"}
    held = {}
    if c.type == "deal" and ctx.role == "rep":
        held = {k: v for k, v in changes.items() if k in KEY_FIELDS}
    rest = {k: v for k, v in changes.items() if k not in held}
    applied = apply_changes(ctx.session, c, rest, actor_id=ctx.staff.id, now=ctx.now, settings=ctx.settings,
                            cur=cur, flush=flush)
    request = None
    if held:
        request = request_approval(ctx, c, {k: [cur.get(k), v] for k, v in held.items()})
    return applied, request
