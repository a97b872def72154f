"""/customer — find, add, edit customers; approve held edits; the audit trail; invites.

    /customer QUERY [tag:… industry:… type:… grade:… owner:me|NAME]   search (paged) or the card
    /customer add [name=… industry=… type=… contact=… phone=… …]       dialog or one line
    /customer edit CODE [field=value …]                                  dialog/form or one line
    /customer approve ID | /customer reject ID [REASON]                  an approval request
    /customer audit CODE                                                 the audit trail (managers, admin)
    /customer invite CODE [CONTACT]                                      a customer chat invite (SERVICE)
    /customer merge CODE INTO CODE                                       merge a duplicate (managers, admin)
    /customer forget CODE                                                erase its personal data (admins)
"""

from __future__ import annotations

import re

from handlers import inputs, lookup
from handlers.cards import customers as cards
from handlers.commands import customers_merge
from handlers.commands.customer_chat import create_invite
from handlers.commands.registry import command
from handlers.context import Ctx
from handlers.dialogs import customer_add, customer_edit
from handlers.dialogs import engine as dialogs
from handlers.errors import Forbidden, InvalidInput, NotFound
from handlers.i18n import parse_enum
from handlers.lookup import Found, find_staff, merged_into, resolve_customer
from handlers.paging import clamp, page_of, split_page
from handlers.permissions import can_edit_customer, customer_filter
from handlers.services import approvals, audit, erasure
from handlers.services.customer_fields import parse_industry, split_args
from handlers.services.customers import EDITABLE, FIELD_KEYS, REQUIRED, parse_fields
from handlers.views import Reply, Text
from storage.models import Customer
from storage.repos import customers as customer_repo

SALES = ("rep", "manager", "admin")
_SUB = {"add": "add", "new": "add", "新增": "add", "新建": "add", "添加": "add", "edit": "edit", "修改": "edit",
        "编辑": "edit", "approve": "approve", "批准": "approve", "reject": "reject", "驳回": "reject",
        "audit": "audit", "审计": "audit", "invite": "invite", "邀请": "invite", "contact": "contact",
        "联系人": "contact", "merge": "merge", "合并": "merge", "forget": "forget", "erase": "forget", "擦除": "forget",
        "删除个人信息": "forget"}
FILTER_KEYS = {"tag": "tag", "标签": "tag", "industry": "industry", "行业": "industry", "type": "type",
               "类型": "type", "grade": "grade", "等级": "grade", "owner": "owner", "负责人": "owner"}
_FILTER = re.compile(r"^([^\s:：]+)[:：](.+)$")


@command("customer", aliases=("customers", "c", "客户"),  # a card, a search, the audit trail only read
         reads=lambda args: _SUB.get(args.partition(" ")[0].lower()) in (None, "audit"))
def cmd_customer(ctx: Ctx, args: str) -> Reply:
    head, _, rest = args.strip().partition(" ")
    sub = _SUB.get(head.lower())
    if sub is None:
        return search(ctx, args)
    if sub in ("add", "edit", "approve", "reject", "contact") and ctx.role not in SALES:
        raise Forbidden("cust.err.sales_only")
    return {"add": add, "edit": edit, "approve": approve, "reject": reject, "audit": show_audit,
            "invite": invite, "contact": add_contact, "merge": customers_merge.merge,
            "forget": forget}[sub](ctx, rest.strip())


# ---------------------------------------------------------------- add


def add(ctx: Ctx, args: str) -> Reply:
    if not args:
        return dialogs.start(ctx, "customer_add")
    pos, kv = split_args(args, {**FIELD_KEYS, "force": "force"}, glue=True)
    _refuse_unknown_keys(ctx, pos)
    force = kv.pop("force", "") not in ("", "0", "no")
    if pos and "name" not in kv:
        kv["name"] = " ".join(pos)
    values = parse_fields(ctx, kv)
    if any(not values.get(f) for f in REQUIRED):
        prefill = {k: values.get(k) for k in customer_add.ORDER if k in values or k not in REQUIRED}
        return dialogs.start(ctx, "customer_add", prefill=prefill)
    return customer_add.finish_add(ctx, values, force=force)


def _refuse_unknown_keys(ctx: Ctx, words: list[str]) -> None:
    """`foo=bar` with a key we do not know is a typo, not part of a name: say which fields exist
    (their Chinese spellings in a Chinese chat)."""
    for w in words:
        m = re.match(r"^([^\W\d][\w-]{0,19})[=＝]", w)
        if m:
            names: dict[str, str] = {}
            for key, canon in FIELD_KEYS.items():
                if canon not in names or (ctx.lang == "zh" and names[canon].isascii() and not key.isascii()):
                    names[canon] = key
            raise InvalidInput("cust.err.unknown_field", field=m.group(1), fields=", ".join(names.values()))


# ---------------------------------------------------------------- edit


def edit(ctx: Ctx, args: str) -> Reply:
    pos, kv = split_args(args, FIELD_KEYS, glue=True)
    if not pos:
        return dialogs.start(ctx, "customer_edit_field")
    c = resolve_customer(ctx, pos[0])
    _refuse_unknown_keys(ctx, pos[1:])
    if not kv and len(pos) == 2 and FIELD_KEYS.get(pos[1].lower()) in EDITABLE:  # `/customer edit CODE owner`:
        return _edit_one(ctx, c, FIELD_KEYS[pos[1].lower()])                       # that field's value, asked
    if not kv:
        if ctx.surface == "form":
            d = dialogs.DIALOGS["customer_edit"]
            return Reply(form=dialogs.form(ctx, d, customer_edit.form_prefill(ctx, c)))
        return dialogs.start(ctx, "customer_edit_field", prefill={"customer": c.code})
    return customer_edit.apply_edit(ctx, c, parse_fields(ctx, kv))


def _edit_one(ctx: Ctx, c: Customer, field: str) -> Reply:
    """Ask for one field's new value (the Reassign button of a manager's alert asks for the owner)."""
    if field not in customer_edit.editable_fields(ctx):
        raise Forbidden("cust.err.owner_forbidden" if field == "owner" else "cust.err.grade_forbidden")
    if not can_edit_customer(ctx, c):
        raise Forbidden("cust.err.edit_forbidden")
    return dialogs.start(ctx, "customer_edit_field", prefill={"customer": c.code, "field": field})


def add_contact(ctx: Ctx, args: str) -> Reply:
    """`/customer contact CODE name=… [title=…] [phone=…] [email=…]`: one more contact person."""
    keys = {k: v for k, v in FIELD_KEYS.items() if v in ("contact", "title", "phone", "email")}
    keys.update({"name": "contact", "名字": "contact", "姓名": "contact"})
    pos, kv = split_args(args, keys, glue=True)
    if not pos or not kv.get("contact"):
        raise InvalidInput("cust.err.contact_usage")
    c = resolve_customer(ctx, pos[0])
    values = parse_fields(ctx, kv)
    return customer_edit.apply_edit(ctx, c, {"add_contact": values})


def _request_id(args: str) -> tuple[int, str]:
    head, _, rest = args.strip().partition(" ")
    rid = inputs.parse_id(head)
    if rid is None:
        raise NotFound("appr.not_found")
    return rid, rest.strip()


def approve(ctx: Ctx, args: str) -> Reply:
    rid, _ = _request_id(args)
    _req, c = approvals.decide(ctx, rid, approve=True)
    return Reply(views=(Text(ctx.t("appr.done_approved", code=c.code, name=c.name)),), replace=ctx.via_button)


def reject(ctx: Ctx, args: str) -> Reply:
    rid, reason = _request_id(args)
    _req, c = approvals.decide(ctx, rid, approve=False, reason=reason)
    return Reply(views=(Text(ctx.t("appr.done_rejected", code=c.code, name=c.name)),), replace=ctx.via_button)


def show_audit(ctx: Ctx, args: str) -> Reply:
    q, page = split_page(args)
    if not q:
        raise InvalidInput("cust.err.need_code")
    customer = resolve_customer(ctx, q)
    return cards.audit_page(ctx, customer, audit.customer_entries(ctx, customer), page)


def forget(ctx: Ctx, args: str) -> Reply:
    """`/customer forget CODE` shows what goes; the Erase button sends `… confirm`, Cancel `… cancel`."""
    words = args.split()
    if not words:
        raise InvalidInput("erase.err.need_code")
    step = words[-1].lower() if len(words) > 1 else ""
    if step in ("confirm", "cancel", "确认", "取消"):
        words = words[:-1]
    customer = resolve_customer(ctx, " ".join(words))
    if step in ("cancel", "取消"):
        return Reply(views=(Text(ctx.t("erase.cancelled")),))
    if step in ("confirm", "确认"):
        return cards.erase_done(ctx, customer, erasure.forget(ctx, customer).counts())
    return cards.erase_confirm(ctx, customer, erasure.plan(ctx, customer).counts())


def invite(ctx: Ctx, args: str) -> Reply:
    pos, _ = split_args(args, {})
    if not pos:
        raise InvalidInput("cust.err.need_code")
    c = resolve_customer(ctx, pos[0])
    return create_invite(ctx, c, " ".join(pos[1:]) or None)


# ---------------------------------------------------------------- search


def parse_filters(ctx: Ctx, text: str) -> tuple[str, dict[str, str]]:
    words, filters = [], {}
    for w in text.split():
        m = _FILTER.match(w)
        key = FILTER_KEYS.get(m.group(1).lower()) if m else None
        if key:
            filters[key] = m.group(2)
        else:
            words.append(w)
    return " ".join(words), filters


def filter_clauses(ctx: Ctx, filters: dict[str, str]) -> list:
    """`tag:… industry:… type:… grade:… owner:me|none|NAME` as WHERE clauses (a bad value raises)."""
    out = []
    for k, v in filters.items():
        if k == "industry":
            out.append(Customer.industry == parse_industry(ctx, v))
        elif k == "type":
            out.append(Customer.type == parse_enum("customer_type", v, lang=ctx.lang))
        elif k == "grade":
            out.append(Customer.grade == parse_enum("grade", v.upper(), lang=ctx.lang))
        elif k == "tag":
            out.append(customer_repo.with_tag(v))
        elif k == "owner":
            if v.lower() in ("me", "我", "mine"):
                out.append(Customer.owner_id == ctx.staff.id)
            elif v.lower() in ("none", "pool", "公海", "无"):
                out.append(Customer.owner_id.is_(None))
            else:
                out.append(Customer.owner_id == find_staff(ctx, v, active=False).id)
    return out


def find_filtered(ctx: Ctx, query: str, filters: dict[str, str], *, page: int = 1) -> Found:
    """One page of the customers matching `query` and `filters` (ranked and paged in SQL)."""
    size = ctx.settings.page_size
    where = filter_clauses(ctx, filters)
    if not query:
        rows = customer_repo.search(ctx.session, where=[customer_filter(ctx), *where])
        return Found(rows)
    found = lookup.search(ctx, query, where=tuple(where), offset=(page - 1) * size, limit=size)
    if not found.matches and found.total > 0 and page > 1:  # past the last page: show the last one
        last = clamp(page, found.total, size)
        found = lookup.search(ctx, query, where=tuple(where), offset=(last - 1) * size, limit=size)
    return found


def search(ctx: Ctx, args: str) -> Reply:
    text, page = split_page(args)
    query, filters = parse_filters(ctx, text)
    if not query and not filters:
        return Reply(views=(Text(ctx.t("cust.search_help")),))
    merged = merged_into(ctx, query) if not filters else None
    if merged is not None:  # an old code: say where it went, and show that customer
        dead, alive = merged
        return Reply(views=(Text(ctx.t("lookup.merged", code=dead.code, into=alive.code, name=alive.name)),)) \
            + cards.customer_card(ctx, alive)
    found = find_filtered(ctx, query, filters, page=page)
    rows = found.matches
    if found.count == 1 and page == 1:
        return cards.customer_card(ctx, rows[0])
    if not found.count and query and not filters:
        raise lookup.not_found(ctx, query, found)  # with the closest names (same as for a hidden one)
    owners = cards.owner_names(ctx, rows)
    lp = page_of(ctx, rows, title=ctx.t("cust.search_title", query=text), page=page, cmd=f"/customer {text}",
                 item=lambda c: cards.list_item(ctx, c, owners), empty_key="cust.search_empty",
                 total=found.total if query else None, more=found.capped)
    return Reply(views=(lp,))
