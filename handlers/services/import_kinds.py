"""The contacts, follow-ups and purchases imports (`import_records.RecordImport` each) and every import by name
(`IMPORTS`, for the CLI and `/import`). Each kind writes a batch with multi-row inserts and an audit entry per
record, as its chat command would: a contact as the customer's `add_contact`, a follow-up as `log … by:`, a
purchase as `/purchase` (then the customer is regraded once per batch).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update

from handlers.services import audit
from handlers.services.customer_fields import parse_amount, parse_email, parse_phone, parse_text
from handlers.services.followup_owed import assignee_for
from handlers.services.followups import SALES_METHODS
from handlers.services.import_engine import map_headers, with_reader_headers
from handlers.services.import_records import (
    CENT,
    CUSTOMER_HEADERS,
    CUSTOMER_LABELS,
    RecordImport,
    any_moment,
    enum_parser,
    importer,
    parse_author,
    parse_code,
    parse_content,
    parse_method,
    parse_recorder,
    past_moment,
    whole_seconds,
)
from handlers.services.importing import EXPORT_ONLY, import_customers
from handlers.services.importing import HEADERS as CUSTOMER_FILE_HEADERS
from handlers.services.purchases import regrade_many
from storage.db import lock_rows
from storage.models import Contact, Customer, FollowUp, Purchase
from storage.models.customer import contact_norms
from storage.repos import customers as customer_repo
from storage.repos import followups as followup_repo
from storage.repos import staff as staff_repo

_CONTACT_FIELDS = ("title", "phone", "email")


class ContactImport(RecordImport):
    name = "contacts"
    headers = {**CUSTOMER_HEADERS, "name": "name", "contact": "name", "联系人": "name", "姓名": "name", "title": "title",
               "职位": "title", "联系人职位": "title", "phone": "phone", "mobile": "phone", "电话": "phone",
               "手机": "phone", "联系电话": "phone", "email": "email", "邮箱": "email", "电子邮箱": "email"}
    known = frozenset({"id", "is_primary", "created_at", "主联系人", "录入日期"})
    labels = {**CUSTOMER_LABELS, "name": "cust.f.contact", "title": "cust.f.title", "phone": "cust.f.phone",
              "email": "cust.f.email"}
    parsers = {"customer_code": parse_code, "customer_name": parse_text(200), "name": parse_text(100),
               "title": parse_text(100), "phone": parse_phone, "email": parse_email}
    required = ("name",)

    def key(self, c: Customer, values: dict) -> tuple:
        return c.id, values["name"].lower()

    def existing(self, ids: list[int]) -> dict[tuple, Any]:
        out: dict[tuple, Contact] = {}
        self.with_contacts = set()
        for k in customer_repo.contacts_of_many(self.ctx.session, ids):
            out.setdefault((k.customer_id, k.name.lower()), k)
            self.with_contacts.add(k.customer_id)
        return out

    def action(self, c: Customer, values: dict, match: Contact | None) -> tuple[str, Any]:
        if match is None:
            return "create", None
        changes = {f: values[f] for f in _CONTACT_FIELDS if f in values and values[f] != getattr(match, f)}
        return ("update", (match, changes)) if changes else ("unchanged", None)

    def insert(self, items: list[tuple[Customer, dict]]) -> None:
        ctx, rows, entries = self.ctx, [], []
        for c, v in items:
            primary = c.id not in self.with_contacts  # a customer's first contact is its primary one
            self.with_contacts.add(c.id)
            rows.append({"customer_id": c.id, "name": v["name"], "title": v.get("title"), "phone": v.get("phone"),
                         "email": v.get("email"), "is_primary": primary, "created_at": ctx.now,
                         **contact_norms(v.get("phone"), v.get("email"))})
            entries.append(audit.entry(actor_id=ctx.staff.id, action="update", entity="customer", entity_id=c.id,
                                       entity_code=c.code, field="add_contact", now=ctx.now,
                                       new=" · ".join(v[f] for f in ("name", *_CONTACT_FIELDS) if v.get(f))))
        if rows:
            ctx.session.execute(insert(Contact.__table__), rows)
        audit.record_many(ctx.session, entries)

    def update(self, items: list[tuple[Customer, dict, Any]]) -> None:
        ctx = self.ctx
        for c, _, (contact, changes) in items:
            for f, new in changes.items():
                audit.record(ctx.session, actor_id=ctx.staff.id, action="update", entity="customer",
                             entity_id=c.id, entity_code=c.code, field=f"contact.{f}", old=getattr(contact, f),
                             new=new, now=ctx.now)
                setattr(contact, f, new)


class FollowUpImport(RecordImport):
    name = "followups"
    headers = {**CUSTOMER_HEADERS, "date": "date", "跟进日期": "date", "跟进时间": "date", "日期": "date",
               "method": "method", "跟进方式": "method", "方式": "method", "content": "content", "沟通内容": "content",
               "内容": "content", "feedback": "feedback", "客户反馈": "feedback", "反馈": "feedback",
               "next_followup_at": "next", "next": "next", "下次跟进时间": "next", "result": "result",
               "结果状态": "result", "结果": "result", "staff_name": "staff", "staff": "staff", "by": "staff",
               "跟进人": "staff"}
    known = frozenset({"id", "staff_id", "created_at", "录入日期"})
    labels = {**CUSTOMER_LABELS, "date": "fu.f.date", "method": "fu.f.method", "content": "fu.f.content",
              "feedback": "fu.f.feedback", "next": "fu.f.next", "result": "fu.f.result", "staff": "fu.f.staff"}
    parsers = {"customer_code": parse_code, "customer_name": parse_text(200), "date": past_moment, "method": parse_method,
               "content": parse_content, "feedback": enum_parser("feedback"), "next": any_moment, "result": enum_parser("result"),
               "staff": parse_author}
    memo = ("date", "method", "feedback", "result", "staff")
    required = ("date", "method", "content", "staff")

    def key(self, c: Customer, values: dict) -> tuple:
        return c.id, whole_seconds(values["date"]), values["staff"], values["method"], values["content"]

    def existing(self, ids: list[int]) -> dict[tuple, Any]:
        return {(cid, whole_seconds(d), sid, m, text): True
                for cid, d, sid, m, text in followup_repo.keys_of(self.ctx.session, ids)}

    def action(self, c: Customer, values: dict, match: Any) -> tuple[str, Any]:
        if values["method"] not in SALES_METHODS and match is None:  # a complaint's trace is made by its ticket
            return "skip", [("method", "import.err.service_trace")]
        return super().action(c, values, match)

    def insert(self, items: list[tuple[Customer, dict]]) -> None:
        if not items:
            return
        ctx, s = self.ctx, self.ctx.session
        rows = [{"customer_id": c.id, "date": v["date"], "method": v["method"], "content": v["content"],
                 "feedback": v.get("feedback"), "next_followup_at": v.get("next"), "staff_id": v["staff"],
                 "assignee_id": assignee_for(c, v["staff"]), "result": v.get("result"), "created_at": ctx.now}
                for c, v in items]
        table = FollowUp.__table__
        ids = s.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars().all()
        names = staff_repo.names(s, {v["staff"] for _, v in items})
        audit.record_many(s, [audit.entry(actor_id=ctx.staff.id, action="create", entity="followup", entity_id=fid,
                                          entity_code=c.code, field="staff", new=names[v["staff"]], now=ctx.now)
                              for fid, (c, v) in zip(ids, items, strict=True)])
        self._settle(list({c.id: c for c, _ in items}.values()))

    def _settle(self, customers: list[Customer]) -> None:
        """As logging a call does, for a batch of customers at once: only the latest contact's next follow-up
        is still owed (the earlier ones are closed), then each customer's last and next follow-up times."""
        s, now, ids = self.ctx.session, self.ctx.now, [c.id for c in customers]
        lock_rows(s, Customer, ids)  # the aggregates below must include concurrent changes
        fu, other = FollowUp.__table__, FollowUp.__table__.alias("other")
        live = (other.c.customer_id == fu.c.customer_id, other.c.deleted_at.is_(None))
        latest = select(func.max(other.c.date)).where(*live, other.c.method.in_(SALES_METHODS)).scalar_subquery()
        s.execute(update(fu).where(fu.c.customer_id.in_(ids), fu.c.deleted_at.is_(None), fu.c.done_at.is_(None),
                                   fu.c.next_followup_at.is_not(None), fu.c.date < latest).values(done_at=now))
        mine = (fu.c.customer_id == Customer.__table__.c.id, fu.c.deleted_at.is_(None))
        s.execute(update(Customer.__table__).where(Customer.__table__.c.id.in_(ids)).values(
            updated_at=now,
            last_followup_at=select(func.max(fu.c.date)).where(*mine, fu.c.method.in_(SALES_METHODS))
            .scalar_subquery(),
            next_followup_at=select(func.min(fu.c.next_followup_at)).where(
                *mine, fu.c.done_at.is_(None), fu.c.next_followup_at.is_not(None)).scalar_subquery()))
        for c in customers:
            s.expire(c, ["updated_at", "last_followup_at", "next_followup_at"])


class PurchaseImport(RecordImport):
    name = "purchases"
    headers = {**CUSTOMER_HEADERS, "date": "date", "购买日期": "date", "日期": "date", "product": "product", "产品": "product",
               "产品名称": "product", "amount": "amount", "金额": "amount", "购买金额": "amount", "staff_name": "staff",
               "staff": "staff", "录入人": "staff", "经办人": "staff"}
    known = frozenset({"id", "staff_id", "created_at", "录入日期"})
    labels = {**CUSTOMER_LABELS, "date": "fu.f.date", "product": "import.f.product", "amount": "import.f.amount",
              "staff": "import.f.recorded_by"}
    parsers = {"customer_code": parse_code, "customer_name": parse_text(200), "date": past_moment, "product": parse_text(200),
               "amount": parse_amount, "staff": parse_recorder}
    memo = ("date", "staff")
    required = ("date", "product", "amount")

    def key(self, c: Customer, values: dict) -> tuple:
        return c.id, whole_seconds(values["date"]), values["product"], Decimal(values["amount"]).quantize(CENT)

    def existing(self, ids: list[int]) -> dict[tuple, Any]:
        return {(cid, whole_seconds(d), p, Decimal(a).quantize(CENT)): True
                for cid, d, p, a in customer_repo.purchase_keys(self.ctx.session, ids)}

    def insert(self, items: list[tuple[Customer, dict]]) -> None:
        if not items:
            return
        ctx, s = self.ctx, self.ctx.session
        s.execute(insert(Purchase.__table__), [
            {"customer_id": c.id, "date": v["date"], "product": v["product"], "amount": Decimal(v["amount"]),
             "staff_id": v.get("staff", ctx.staff.id), "created_at": ctx.now} for c, v in items])
        audit.record_many(s, [audit.entry(actor_id=ctx.staff.id, action="purchase", entity="customer", entity_id=c.id,
                                          entity_code=c.code, new=f"{v['product']} ¥{v['amount']}", now=ctx.now)
                              for c, v in items])
        customers = list({c.id: c for c, _ in items}.values())
        lock_rows(s, Customer, [c.id for c in customers])  # concurrent purchases queue: each grade counts the other
        regrade_many(s, customers, now=ctx.now, settings=ctx.settings, actor_id=ctx.staff.id)


import_contacts = importer(ContactImport)
import_followups = importer(FollowUpImport)
import_purchases = importer(PurchaseImport)
IMPORTS = {"customers": import_customers, "contacts": import_contacts, "followups": import_followups,
           "purchases": import_purchases}
RECORD_KINDS = {"contacts": ContactImport, "followups": FollowUpImport, "purchases": PurchaseImport}


def detect_kind(header: list[str]) -> str:
    """The kind a file's header row is for: a kind whose required columns (and a customer column) are all there
    and which reads more of the columns than any other; a tie, or nothing else fitting, is `customers`."""
    unread = {"customers": len(map_headers(header, *with_reader_headers("customers", CUSTOMER_FILE_HEADERS,
                                                                         EXPORT_ONLY))[2])}
    for name, kind in RECORD_KINDS.items():
        _, named, unknown = map_headers(header, *with_reader_headers(name, kind.headers, kind.known))
        fields = set(named.values())
        if set(kind.required) <= fields and fields & {"customer_code", "customer_name"}:
            unread[name] = len(unknown)
    fewest = min(unread.values())
    best = [k for k, n in unread.items() if n == fewest]
    return best[0] if len(best) == 1 else "customers"
