"""Export rows: platform-neutral, for `crm-bot export` and the chat's `/export`.

Every row uses the canonical field names of domain.md, in a stable column order (`COLUMNS`). Timestamps are
ISO 8601 with an offset (in the given time zone), dates are `YYYY-MM-DD`, enums are the canonical English ids,
customers and opportunities are referred to by code (`customer_code`, `opportunity_code`) and staff by id and
name (`owner_id`/`owner_name`, `staff_id`/`staff_name`, `assignee_id`/`assignee_name`).

`build_rows(session, kind, tz=..., where=...)` returns a list of dicts; `write(rows, kind, fmt, stream)`
writes JSON (a list of objects), CSV or xlsx. `where` narrows the customers whose rows are exported.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from storage.models import Contact, Customer, CustomerTag, FollowUp, Opportunity, Purchase, Tag, Ticket
from storage.repos import staff as staff_repo

KINDS = ("customers", "contacts", "followups", "opportunities", "tickets", "purchases")
FORMATS = ("json", "csv", "xlsx")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("code", "name", "industry", "type", "grade", "tags", "source", "address", "demand", "notes",
                  "owner_id", "owner_name", "created_at", "updated_at", "last_followup_at", "next_followup_at"),
    "contacts": ("id", "customer_code", "customer_name", "name", "title", "phone", "email", "is_primary",
                 "created_at"),
    "followups": ("id", "customer_code", "customer_name", "date", "method", "content", "feedback",
                  "next_followup_at", "result", "staff_id", "staff_name", "created_at"),
    "opportunities": ("code", "customer_code", "customer_name", "name", "stage", "expected_amount",
                      "expected_close_date", "actual_amount", "contract_no", "lost_reason", "competitors",
                      "strengths", "weaknesses", "owner_id", "owner_name", "created_at", "updated_at"),
    "tickets": ("code", "customer_code", "customer_name", "contact_name", "type", "priority", "status",
                "description", "assignee_id", "assignee_name", "resolution", "rating", "rating_comment",
                "rated_at", "created_at", "assigned_at", "first_contact_at", "resolved_at", "closed_at"),
    "purchases": ("id", "customer_code", "customer_name", "date", "product", "amount", "staff_id",
                  "staff_name", "created_at"),
}


class _Fmt:
    def __init__(self, session: Session, tz: ZoneInfo) -> None:
        self.tz = tz
        self.names = staff_repo.names(session)

    def ts(self, dt: datetime | None) -> str | None:
        return dt.astimezone(self.tz).isoformat(timespec="seconds") if dt else None

    def staff(self, prefix: str, staff_id: int | None) -> dict[str, Any]:
        return {f"{prefix}_id": staff_id, f"{prefix}_name": self.names.get(staff_id) if staff_id else None}


def _customers(s: Session, f: _Fmt, where: ColumnElement[bool]) -> list[dict]:
    tags: dict[int, list[str]] = defaultdict(list)
    q = (select(CustomerTag.customer_id, Tag.name).join(Tag, Tag.id == CustomerTag.tag_id)
         .join(Customer, Customer.id == CustomerTag.customer_id).where(where).order_by(Tag.name))
    for cid, name in s.execute(q):
        tags[cid].append(name)
    return [dict(code=c.code, name=c.name, industry=c.industry, type=c.type, grade=c.grade, tags=tags[c.id],
                 source=c.source, address=c.address, demand=c.demand, notes=c.notes, **f.staff("owner", c.owner_id),
                 created_at=f.ts(c.created_at), updated_at=f.ts(c.updated_at),
                 last_followup_at=f.ts(c.last_followup_at), next_followup_at=f.ts(c.next_followup_at))
            for c in s.scalars(select(Customer).where(where).order_by(Customer.code))]


def _contacts(s: Session, f: _Fmt, where: ColumnElement[bool]) -> list[dict]:
    q = (select(Contact, Customer.code, Customer.name).join(Customer, Customer.id == Contact.customer_id)
         .where(where).order_by(Customer.code, Contact.id))
    return [dict(id=k.id, customer_code=code, customer_name=cname, name=k.name, title=k.title, phone=k.phone,
                 email=k.email, is_primary=k.is_primary, created_at=f.ts(k.created_at))
            for k, code, cname in s.execute(q)]


def _followups(s: Session, f: _Fmt, where: ColumnElement[bool]) -> list[dict]:
    q = (select(FollowUp, Customer.code, Customer.name).join(Customer, Customer.id == FollowUp.customer_id)
         .where(where, FollowUp.deleted_at.is_(None)).order_by(FollowUp.date, FollowUp.id))
    return [dict(id=x.id, customer_code=code, customer_name=cname, date=f.ts(x.date), method=x.method,
                 content=x.content, feedback=x.feedback, next_followup_at=f.ts(x.next_followup_at),
                 result=x.result, **f.staff("staff", x.staff_id), created_at=f.ts(x.created_at))
            for x, code, cname in s.execute(q)]


def _opportunities(s: Session, f: _Fmt, where: ColumnElement[bool]) -> list[dict]:
    q = (select(Opportunity, Customer.code, Customer.name).join(Customer, Customer.id == Opportunity.customer_id)
         .where(where).order_by(Opportunity.code))
    return [dict(code=o.code, customer_code=code, customer_name=cname, name=o.name, stage=o.stage,
                 expected_amount=o.expected_amount,
                 expected_close_date=o.expected_close_date.isoformat() if o.expected_close_date else None,
                 actual_amount=o.actual_amount, contract_no=o.contract_no, lost_reason=o.lost_reason,
                 competitors=o.competitors, strengths=o.strengths, weaknesses=o.weaknesses,
                 **f.staff("owner", o.owner_id), created_at=f.ts(o.created_at), updated_at=f.ts(o.updated_at))
            for o, code, cname in s.execute(q)]


def _tickets(s: Session, f: _Fmt, where: ColumnElement[bool]) -> list[dict]:
    q = (select(Ticket, Customer.code, Customer.name, Contact.name)
         .join(Customer, Customer.id == Ticket.customer_id)
         .outerjoin(Contact, Contact.id == Ticket.contact_id).where(where).order_by(Ticket.code))
    return [dict(code=x.code, customer_code=code, customer_name=cname, contact_name=contact, type=x.type,
                 priority=x.priority, status=x.status, description=x.description,
                 **f.staff("assignee", x.assignee_id), resolution=x.resolution, rating=x.rating,
                 rating_comment=x.rating_comment, rated_at=f.ts(x.rated_at), created_at=f.ts(x.created_at),
                 assigned_at=f.ts(x.assigned_at), first_contact_at=f.ts(x.first_contact_at),
                 resolved_at=f.ts(x.resolved_at), closed_at=f.ts(x.closed_at))
            for x, code, cname, contact in s.execute(q)]


def _purchases(s: Session, f: _Fmt, where: ColumnElement[bool]) -> list[dict]:
    q = (select(Purchase, Customer.code, Customer.name).join(Customer, Customer.id == Purchase.customer_id)
         .where(where).order_by(Purchase.date, Purchase.id))
    return [dict(id=p.id, customer_code=code, customer_name=cname, date=f.ts(p.date), product=p.product,
                 amount=p.amount, **f.staff("staff", p.staff_id), created_at=f.ts(p.created_at))
            for p, code, cname in s.execute(q)]


_BUILDERS: dict[str, Callable[[Session, _Fmt, ColumnElement[bool]], list[dict]]] = {
    "customers": _customers, "contacts": _contacts, "followups": _followups,
    "opportunities": _opportunities, "tickets": _tickets, "purchases": _purchases,
}


def build_rows(session: Session, kind: str, *, tz: str | ZoneInfo = "UTC",
               where: ColumnElement[bool] | None = None) -> list[dict]:
    """The rows of `kind` for the customers matching `where` (all when None), columns as `COLUMNS[kind]`."""
    if kind not in _BUILDERS:
        raise ValueError(f"unknown export kind {kind!r}")
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    rows = _BUILDERS[kind](session, _Fmt(session, zone), where if where is not None else Customer.merged_into_id.is_(None))
    return [{c: r.get(c) for c in COLUMNS[kind]} for r in rows]


# ---------------------------------------------------------------- writers


def _json_value(v: Any) -> Any:
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, datetime | date):
        return v.isoformat()
    return v


def _flat(v: Any) -> Any:
    """A cell value for CSV and xlsx: lists joined, amounts as numbers."""
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    return _json_value(v)


def _csv_cell(v: Any) -> Any:
    v = _flat(v)
    if v is None:
        return ""
    return ("true" if v else "false") if isinstance(v, bool) else v


def to_json(rows: list[dict]) -> str:
    return json.dumps([{k: _json_value(v) for k, v in r.items()} for r in rows], ensure_ascii=False, indent=2)


def to_csv(rows: list[dict], kind: str) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS[kind])
    for r in rows:
        w.writerow([_csv_cell(r.get(c)) for c in COLUMNS[kind]])
    return buf.getvalue()


def to_xlsx(rows: list[dict], kind: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=kind)
    ws.append(list(COLUMNS[kind]))
    for r in rows:
        cells = []
        for c in COLUMNS[kind]:
            v = _flat(r.get(c))
            if isinstance(v, str):
                cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", v))
                cell.data_type = "s"  # never a formula, whatever the text starts with
                cells.append(cell)
            else:
                cells.append(v)
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write(rows: list[dict], kind: str, fmt: str, stream: IO[bytes]) -> None:
    """Write `rows` in `fmt` (json, csv: UTF-8 text; xlsx) to a binary stream."""
    if fmt == "json":
        stream.write((to_json(rows) + "\n").encode("utf-8"))
    elif fmt == "csv":
        stream.write(to_csv(rows, kind).encode("utf-8"))
    elif fmt == "xlsx":
        stream.write(to_xlsx(rows, kind))
    else:
        raise ValueError(f"unknown export format {fmt!r}")
