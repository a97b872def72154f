"""Customers from a spreadsheet: read a CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or XLSX file row by row,
check every row with the same parsers as the commands (`customers.PARSERS`), match it to an existing
customer (by code, else normalised name, else phone), and report what would be created, updated and skipped
with every problem by row and field. `import_customers(…, apply=True)` then writes: all rows or nothing, or
only the good ones. The file is read twice (check, then write), never held in memory.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handlers.context import Ctx
from handlers.errors import UserError
from handlers.lookup import normalize_name
from handlers.permissions import can_edit_customer
from handlers.services import customers as cust
from storage.models import Customer
from storage.repos import customers as customer_repo

HEADERS = {**cust.FIELD_KEYS, "code": "code", "编号": "code", "客户编号": "code", "所属行业": "industry",
           "客户等级": "grade", "联系电话": "phone", "手机号": "phone", "电子邮箱": "email", "客户标签": "tags",
           "客户来源": "source", "客户需求": "demand", "owner_name": "owner", "负责人姓名": "owner",
           "联系人职位": "title",
           # the column names `export` writes for a reader (exporting.header): 企业地址, 需求描述
           "企业地址": "address", "需求描述": "demand"}
# columns `export` writes that are not typed in: known, read, ignored
EXPORT_ONLY = frozenset({"owner_id", "created_at", "updated_at", "last_followup_at", "next_followup_at",
                         # the same, as `export` names them for a reader of English or Chinese
                         "owner id", "created", "updated", "last follow-up", "next follow-up",
                         "负责人编号", "录入日期", "更新时间", "最近跟进时间", "下次跟进时间"})
BATCH = 500


@dataclass
class Problem:
    row: int  # the spreadsheet's row number (the header is row 1)
    field: str  # canonical field name, "" for the whole row
    message: str  # translated


@dataclass
class ImportReport:
    encoding: str  # utf-8, utf-8-sig, gb18030 or xlsx
    columns: dict[str, str]  # header as written → field
    unknown_columns: list[str]
    rows: int = 0
    created: list[int] = field(default_factory=list)  # row numbers
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)  # matched, nothing to change
    skipped: list[int] = field(default_factory=list)  # rows with a problem, or blank
    problems: list[Problem] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------- reading


def detect_encoding(path: Path) -> str:
    """utf-8-sig with a BOM; utf-8 if the whole file decodes as UTF-8 (read in chunks); else gb18030."""
    with path.open("rb") as f:
        if f.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig"
        f.seek(0)
        dec = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := f.read(1 << 16):
                dec.decode(chunk)
            dec.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"  # a superset of GBK
    return "utf-8"


def _csv_rows(path: Path, encoding: str) -> Iterator[list[str]]:
    with path.open(encoding=encoding, newline="") as f:
        yield from csv.reader(f)


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        for r in wb.worksheets[0].iter_rows(values_only=True):
            yield ["" if v is None else _cell(v) for v in r]
    finally:
        wb.close()


def _cell(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))  # a phone typed as a number
    return str(v)


def open_rows(path: Path) -> tuple[str, Callable[[], Iterator[list[str]]]]:
    """(encoding, a function that streams the rows afresh, header first)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return "xlsx", lambda: _xlsx_rows(path)
    enc = detect_encoding(path)
    return enc, lambda: _csv_rows(path, enc)


def map_headers(header: list[str]) -> tuple[dict[int, str], dict[str, str], list[str]]:
    """(column index → field, header → field, unknown headers)."""
    idx: dict[int, str] = {}
    named: dict[str, str] = {}
    unknown: list[str] = []
    for i, h in enumerate(header):
        key = (h or "").strip().lstrip("\ufeff")
        canon = HEADERS.get(key.lower())
        if canon and canon not in idx.values():
            idx[i], named[key] = canon, canon
        elif key and key.lower() not in EXPORT_ONLY:
            unknown.append(key)
    return idx, named, unknown


# ---------------------------------------------------------------- checking one row


def _problem(ctx: Ctx, row: int, name: str, e: UserError) -> Problem:
    return Problem(row, name, ctx.t(e.key, **e.params))


def parse_row(ctx: Ctx, n: int, raw: dict[str, str], default_owner: int | None) -> tuple[dict, list[Problem]]:
    """Every field parsed with the commands' parsers; every bad field is a problem (not only the first)."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for k, text in raw.items():
        if k == "code":
            values["code"] = text.strip().upper()
            continue
        try:
            values[k] = cust.PARSERS[k](ctx, text, values)
        except UserError as e:
            problems.append(_problem(ctx, n, k, e))
    if "owner" not in raw and default_owner is not None:
        values["owner"] = default_owner
    if "name" not in raw:
        problems.append(Problem(n, "name", ctx.t("dlg.required")))
    return values, problems


class Existing:
    """The customers already saved, by code, normalised name and contact phone (first wins), read once."""

    def __init__(self, ctx: Ctx) -> None:
        self.code: dict[str, int] = {}
        self.name: dict[str, int] = {}
        self.phone: dict[str, int] = {}
        for cid, code, name_norm, phone in customer_repo.match_keys(ctx.session):
            self.code.setdefault(code.upper(), cid)
            self.name.setdefault(name_norm, cid)
            if phone:
                self.phone.setdefault(phone, cid)

    def match(self, ctx: Ctx, values: dict) -> Customer | None:
        """The existing customer a row is about: by code, else normalised name, else a contact's phone."""
        if values.get("code"):
            cid = self.code.get(values["code"])
        else:
            cid = (self.name.get(normalize_name(values["name"])) if values.get("name") else None) or (
                self.phone.get(values["phone"]) if values.get("phone") else None)
        return ctx.session.get(Customer, cid) if cid else None


def changes_for(ctx: Ctx, c: Customer, values: dict) -> dict[str, Any]:
    cur = customer_repo.current_values(ctx.session, c)
    out = {}
    for k, v in values.items():
        if k == "code":
            continue
        old = cur.get(k)
        if k == "tags" and set(v) == set(old or []):
            continue
        if k == "grade" and v == "auto" and not c.grade_locked:
            continue
        if v != old and not (v in ("", None) and old in ("", None)):
            out[k] = v
    return out


class _Seen:
    """Keys already used by an earlier row of the file: code, normalised name, phone."""

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], int] = {}

    def check(self, values: dict, n: int) -> int | None:
        keys = [("code", values.get("code")), ("name", values.get("name") and normalize_name(values["name"])),
                ("phone", values.get("phone"))]
        for k in keys:
            if k[1] and k in self.keys:
                return self.keys[k]
        for k in keys:
            if k[1]:
                self.keys[k] = n
        return None


# ---------------------------------------------------------------- the import


def _rows(stream: Iterator[list[str]], idx: dict[int, str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, {field: text}) for every row with something in it; empty cells are left out."""
    for n, cells in enumerate(stream, start=2):
        raw = {idx[i]: v.strip() for i, v in enumerate(cells) if i in idx and v and v.strip()}
        if raw or any(v.strip() for v in cells if v):
            yield n, raw


def check_row(ctx: Ctx, n: int, raw: dict[str, str], seen: _Seen, existing: Existing,
              default_owner: int | None) -> tuple[str, dict, Customer | None, list[Problem]]:
    """What to do with one row: ("create" | "update" | "unchanged" | "skip", values, customer, problems)."""
    values, problems = parse_row(ctx, n, raw, default_owner)
    if values.get("owner") not in (None, ctx.staff.id) and not problems:
        try:
            cust.check_owner(ctx, values["owner"])
        except UserError as e:
            problems.append(_problem(ctx, n, "owner", e))
    if values.get("grade") not in (None, "auto") and ctx.role not in ("manager", "admin"):
        problems.append(Problem(n, "grade", ctx.t("cust.err.grade_forbidden")))
    first = seen.check(values, n)
    if first is not None:
        problems.append(Problem(n, "", ctx.t("import.err.duplicate", row=first)))
    if problems:
        return "skip", values, None, problems
    c = existing.match(ctx, values)
    if c is None and values.get("code"):
        return "skip", values, None, [Problem(n, "code", ctx.t("lookup.not_found", query=values["code"]))]
    if c is None:
        missing = [f for f in cust.REQUIRED if not values.get(f)]
        if missing:
            return "skip", values, None, [Problem(n, f, ctx.t("dlg.required")) for f in missing]
        return "create", values, None, []
    if not can_edit_customer(ctx, c):
        return "skip", values, None, [Problem(n, "", ctx.t("cust.err.edit_forbidden"))]
    changes = changes_for(ctx, c, values)
    return ("update" if changes else "unchanged"), changes, c, []


def import_customers(ctx: Ctx, path: Path, *, owner: int | None = None, apply: bool = False,
                     only_good: bool = False, progress: Callable[[int], None] | None = None) -> ImportReport:
    """Check every row of `path`; with `apply`, write the good rows if all are good (or with `only_good`).

    The caller commits (one unit of work: all or nothing). Each created customer gets its code and an audit
    entry (`customers.create_customer`); updates go through `customers.edit_customer`.
    """
    encoding, stream = open_rows(path)
    rows = stream()
    idx, named, unknown = map_headers(next(rows, []))
    report = ImportReport(encoding=encoding, columns=named, unknown_columns=unknown)
    seen, existing = _Seen(), Existing(ctx)
    for n, raw in _rows(rows, idx):
        action, _, _, problems = check_row(ctx, n, raw, seen, existing, owner)
        report.rows += 1
        report.problems.extend(problems)
        {"create": report.created, "update": report.updated, "unchanged": report.unchanged,
         "skip": report.skipped}[action].append(n)
        if progress and report.rows % 1000 == 0:
            progress(report.rows)
    if apply and (report.ok or only_good) and (report.created or report.updated):
        _write(ctx, stream, idx, owner, set(report.created) | set(report.updated), progress)
        report.applied = True
    return report


def _write(ctx: Ctx, stream: Callable[[], Iterator[list[str]]], idx: dict[int, str], owner: int | None,
           todo: set[int], progress: Callable[[int], None] | None) -> None:
    rows = stream()
    next(rows, None)
    seen, existing = _Seen(), Existing(ctx)
    batch: list[dict] = []
    done = 0
    for n, raw in _rows(rows, idx):
        action, values, c, _ = check_row(ctx, n, raw, seen, existing, owner)
        if n not in todo:
            continue
        if action == "create":
            batch.append(values)
        elif action == "update" and c is not None:
            cust.edit_customer(ctx, c, values)
        done += 1
        if len(batch) >= BATCH or done % BATCH == 0:
            _create(ctx, batch)
            batch = []
            if progress:
                progress(done)
    _create(ctx, batch)


def _create(ctx: Ctx, batch: list[dict]) -> None:
    """A batch of new customers: one insert of the rows, then their contacts, tags and audit entries."""
    s = ctx.session
    made = [(cust.build_customer(ctx, v), v) for v in batch]
    s.add_all(c for c, _ in made)
    s.flush()
    for c, v in made:
        cust.add_details(ctx, c, v)
    s.flush()
    s.expunge_all()  # memory stays flat: written rows leave the identity map
    s.add(ctx.staff)
