"""Export rows: platform-neutral, for `crm-bot export` and the chat's `/export`.

Every row uses the canonical field names of domain.md, in a stable column order (`COLUMNS`). Timestamps are
ISO 8601 with an offset (in the given time zone), dates are `YYYY-MM-DD`, enums are the canonical English ids,
customers and opportunities are referred to by code (`customer_code`, `opportunity_code`) and staff by id and
name (`owner_id`/`owner_name`, `staff_id`/`staff_name`, `assignee_id`/`assignee_name`).

`build_rows(session, kind, tz=..., where=...)` returns a list of dicts; `write(rows, kind, fmt, stream, lang=...)`
writes JSON (a list of objects), CSV or xlsx. `where` narrows the customers whose rows are exported.

For a reader (`lang` "zh" or "en"), CSV and xlsx carry the handbook's column names in that language (客户编号,
客户名称, 所属行业 … / Code, Name, Industry …, the catalog's `export.col.*`) and enum values as labels (意向客户 /
intent); the importer reads those headers and labels back. xlsx also gets real date cells (local time of the
export's zone), a frozen header row, an autofilter and column widths fitted to the content. JSON, and CSV
without `lang`, keep the canonical names and ids.
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

from handlers.i18n import enum_label, has, t
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
                "description", "assignee_id", "assignee_name", "resolution", "emotion", "cause", "rating", "rating_comment",
                "rated_at", "created_at", "assigned_at", "first_contact_at", "resolved_at", "closed_at"),
    "purchases": ("id", "customer_code", "customer_name", "date", "product", "amount", "staff_id",
                  "staff_name", "created_at"),
}


# enum columns per kind → the enum they hold (translated for a reader)
ENUM_COLUMNS: dict[str, dict[str, str]] = {
    "customers": {"industry": "industry", "type": "customer_type"},
    "followups": {"method": "method", "feedback": "feedback", "result": "result"},
    "opportunities": {"stage": "stage"},
    "tickets": {"type": "ticket_type", "priority": "priority", "status": "status", "emotion": "emotion",
                "cause": "complaint_cause"},
}
DATE_COLUMNS = frozenset({"expected_close_date"})  # a day; `*_at` and `date` are timestamps


def header(kind: str, column: str, lang: str) -> str:
    """The column's name for a reader: `export.col.<kind>.<column>`, else `export.col.<column>`."""
    key = f"export.col.{kind}.{column}"
    return t(lang, key if has(key) else f"export.col.{column}")


def headers(kind: str, lang: str | None) -> list[str]:
    """The header row: canonical field names without `lang`."""
    return [header(kind, c, lang) if lang else c for c in COLUMNS[kind]]


def localize(rows: list[dict], kind: str, lang: str) -> list[dict]:
    """The rows with enum ids replaced by their labels in `lang` (empty stays empty)."""
    enums = ENUM_COLUMNS.get(kind, {})
    if not enums:
        return rows
    return [{c: (enum_label(lang, enums[c], v) if c in enums and v not in (None, "") else v) for c, v in r.items()}
            for r in rows]


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
                 **f.staff("assignee", x.assignee_id), resolution=x.resolution, emotion=x.emotion, cause=x.cause,
                 rating=x.rating,
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


def to_csv(rows: list[dict], kind: str, lang: str | None = None) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(headers(kind, lang))
    for r in localize(rows, kind, lang) if lang else rows:
        w.writerow([_csv_cell(r.get(c)) for c in COLUMNS[kind]])
    return buf.getvalue()


def _xlsx_value(column: str, v: Any) -> Any:
    """A real date or time cell for a timestamp or day (local wall time: Excel has no zones), else as `_flat`."""
    if isinstance(v, str) and v and (column.endswith("_at") or column == "date"):
        return datetime.fromisoformat(v).replace(tzinfo=None)
    if isinstance(v, str) and v and column in DATE_COLUMNS:
        return date.fromisoformat(v)
    return _flat(v)


def _width(v: Any) -> int:
    """Display width: CJK characters take two columns."""
    if isinstance(v, datetime):
        return 16
    if isinstance(v, date):
        return 10
    s = "" if v is None else str(v)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


DATETIME_FORMAT, DATE_FORMAT = "yyyy-mm-dd hh:mm", "yyyy-mm-dd"
MIN_WIDTH, MAX_WIDTH, WIDTH_SAMPLE = 6, 50, 500


def to_xlsx(rows: list[dict], kind: str, lang: str | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    cols = COLUMNS[kind]
    table = [[_xlsx_value(c, r.get(c)) for c in cols] for r in (localize(rows, kind, lang) if lang else rows)]
    head = headers(kind, lang)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=t(lang, f"export.kind.{kind}") if lang else kind)
    for i, h in enumerate(head):  # widths first: a write-only sheet writes them before the rows
        width = max([_width(h)] + [_width(row[i]) for row in table[:WIDTH_SAMPLE]])
        ws.column_dimensions[get_column_letter(i + 1)].width = min(MAX_WIDTH, max(MIN_WIDTH, width + 2))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{len(table) + 1}"
    bold = Font(bold=True)
    head_cells = []
    for h in head:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = bold
        head_cells.append(cell)
    ws.append(head_cells)
    for row in table:
        cells = []
        for v in row:
            if isinstance(v, str):
                cell = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("", v))
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif isinstance(v, datetime | date):
                cell = WriteOnlyCell(ws, value=v)
                cell.number_format = DATETIME_FORMAT if isinstance(v, datetime) else DATE_FORMAT
            else:
                cell = v
            cells.append(cell)
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write(rows: list[dict], kind: str, fmt: str, stream: IO[bytes], *, lang: str | None = None) -> None:
    """Write `rows` in `fmt` (json, csv: UTF-8 text; xlsx) to a binary stream; CSV and xlsx for a reader of
    `lang` (its column names and enum labels) when given. JSON always has the canonical names."""
    if fmt == "json":
        stream.write((to_json(rows) + "\n").encode("utf-8"))
    elif fmt == "csv":
        stream.write(to_csv(rows, kind, lang).encode("utf-8"))
    elif fmt == "xlsx":
        stream.write(to_xlsx(rows, kind, lang))
    else:
        raise ValueError(f"unknown export format {fmt!r}")
