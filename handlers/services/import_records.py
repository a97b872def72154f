"""Contacts, follow-ups and purchases from a spreadsheet (`crm-bot import contacts|followups|purchases`), on
the same engine as customers (`handlers.services.import_engine`).

Each row names its customer by code (`customer_code`, 客户编号) or exact name (`customer_name`, 客户名称); the
importer must be allowed to edit that customer. A row already saved is `unchanged` (so the file `export`
wrote comes back in without a change): a contact by its customer and name (a changed title, phone or email
updates it), a follow-up by customer, date, author, method and content, a purchase by customer, date, product
and amount. Follow-ups and purchases are history: their date (跟进日期, 购买日期) is required and kept, never
"now", and so is a follow-up's author (跟进人: a staff member who exists, maybe one who has left, named as
`log` lets the importer name them). Purchases regrade their customers as `/purchase` does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from handlers import inputs
from handlers.context import Ctx
from handlers.errors import InvalidInput, NotFound
from handlers.i18n import LANGS, enum_label, parse_enum
from handlers.permissions import can_edit_customer, can_see_customer
from handlers.services import followups
from handlers.services.import_engine import ImportReport, Memo, Problem, Seen, parse_fields, run
from storage.models import Customer
from storage.repos import customers as customer_repo
from storage.repos import staff as staff_repo

CUSTOMER_HEADERS = {"customer_code": "customer_code", "客户编号": "customer_code", "customer_name": "customer_name",
             "customer": "customer_name", "客户名称": "customer_name", "客户": "customer_name"}
CUSTOMER_LABELS = {"customer_code": "import.f.customer", "customer_name": "import.f.customer"}
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
CENT = Decimal("0.01")


def parse_moment(ctx: Ctx, text: str, *, past: bool) -> datetime:
    """A spreadsheet's date or time: `2026-12-05`, `2026/12/5`, `2026年12月5日`, `2026-12-05 14:30`, ISO with an
    offset (what `export` writes). A day alone is its local noon; a time without an offset is local (the
    importer's zone). `past`: history, so not later than now."""
    s = inputs.key(text)
    m = _YMD.match(s)
    if not m:
        raise InvalidInput("cust.err.date", value=text)
    rest = s[m.end():].strip().lstrip("Tt").strip()
    try:
        dt = datetime.fromisoformat(f"{int(m[1]):04d}-{int(m[2]):02d}-{int(m[3]):02d}" + (f"T{rest}" if rest else ""))
    except ValueError:
        raise InvalidInput("cust.err.date", value=text) from None
    if rest in ("", "00:00", "00:00:00"):  # a day (Excel gives a typed date as midnight)
        dt = datetime.combine(dt.date(), time(12), tzinfo=ctx.tz)
    elif dt.tzinfo is None:
        dt = dt.replace(tzinfo=ctx.tz)
    if dt.year < 1900 or (past and dt > ctx.now):
        raise InvalidInput("import.err.future" if dt.year >= 1900 else "cust.err.date", value=text)
    return dt.astimezone(UTC)


def past_moment(ctx: Ctx, text: str, values: dict) -> datetime:
    return parse_moment(ctx, text, past=True)


def any_moment(ctx: Ctx, text: str, values: dict) -> datetime:
    return parse_moment(ctx, text, past=False)


def parse_code(ctx: Ctx, text: str, values: dict) -> str:
    return inputs.key(text).upper()


def parse_method(ctx: Ctx, text: str, values: dict) -> str:
    """A sales method; `service` too (a complaint's trace, which `export` writes): the row is then one already
    saved, or a problem (`FollowUpImport.action`)."""
    said = inputs.key(text).lower()
    trace = said in {enum_label(lang, "method", "service").lower() for lang in LANGS} | {"service"}
    m = followups.match_method(text) or ("service" if trace else None)
    if m is None:
        raise InvalidInput("fu.bad_method", value=text)
    return m


def parse_content(ctx: Ctx, text: str, values: dict) -> str:
    t = inputs.clean(text).strip()
    if not t:
        raise InvalidInput("fu.no_content")
    if len(t) > ctx.settings.max_text:
        raise InvalidInput("fu.too_long", max=ctx.settings.max_text, length=len(t))
    return t


def enum_parser(kind: str) -> Callable[[Ctx, str, dict], str]:
    return lambda ctx, text, values: parse_enum(kind, text, lang=ctx.lang)


def parse_author(ctx: Ctx, text: str, values: dict) -> int:
    """跟进人: exactly the name of a staff member (maybe one who has left) the importer may log for."""
    author = followups.find_author(ctx, text, active=False)
    if author.name.lower() != text.strip().lstrip("@").lower():  # a prefix is another person
        raise NotFound("staffcmd.not_found", name=text.strip())
    return author.id


def parse_recorder(ctx: Ctx, text: str, values: dict) -> int:
    """Who recorded a purchase: exactly the name of a staff member (maybe one who has left)."""
    hit = staff_repo.get_by_name(ctx.session, name=text, active=False)
    if hit is None or hit.name.lower() != text.strip().lstrip("@").lower():
        raise NotFound("staffcmd.not_found", name=text.strip())
    return hit.id


def whole_seconds(dt: datetime) -> int:
    return int(dt.timestamp())  # `export` writes whole seconds: a saved 10:30:00.4 is the file's 10:30:00


class RecordImport:
    """What the three kinds share: parse, find each row's customer (a batch at a time), match the rows already
    saved (`existing`, by `key`), and flag a row that repeats an earlier one of the file."""

    name = ""
    headers: dict[str, str] = {}
    known: frozenset[str] = frozenset()
    labels: dict[str, str] = {}
    parsers: dict[str, Callable] = {}
    memo: tuple[str, ...] = ()
    required: tuple[str, ...] = ()

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.p = {k: Memo(f) if k in self.memo else f for k, f in self.parsers.items()}
        self.seen = Seen()

    # ------------------------------------------------------------ per kind

    def key(self, c: Customer, values: dict) -> tuple:
        """What makes a row the same record as another (in the file or saved)."""
        raise NotImplementedError

    def existing(self, ids: list[int]) -> dict[tuple, Any]:
        """The saved records of these customers, by `key`."""
        raise NotImplementedError

    def action(self, c: Customer, values: dict, match: Any) -> tuple[str, Any]:
        """History (follow-ups, purchases) is added or already there; contacts may also be updated. ("skip",
        [Problem]) for a row that cannot be written."""
        return ("unchanged" if match is not None else "create"), None

    def insert(self, items: list[tuple[Customer, dict]]) -> None:
        raise NotImplementedError

    def update(self, items: list[tuple[Customer, dict, Any]]) -> None:
        """Nothing to update but where `action` says so (contacts)."""

    # ------------------------------------------------------------ shared

    def _decide(self, rows: list[tuple[int, dict[str, str]]], *, seen: bool) -> list[tuple]:
        """Per row: (action, values, customer, what `update` needs, problems)."""
        ctx = self.ctx
        parsed = []
        for n, raw in rows:
            values, problems = parse_fields(ctx, n, raw, self.p)
            problems += [Problem(n, f, ctx.t("dlg.required")) for f in self.required if f not in raw]
            if "customer_code" not in raw and "customer_name" not in raw:
                problems.append(Problem(n, "customer_code", ctx.t("dlg.required")))
            parsed.append((n, values, problems))
        found = customer_repo.by_codes_or_names(
            ctx.session, codes=[v["customer_code"] for _, v, _ in parsed if v.get("customer_code")],
            names=[v["customer_name"] for _, v, _ in parsed if v.get("customer_name") and not v.get("customer_code")])
        by_code = {c.code: c for c in found}
        by_name: dict[str, list[Customer]] = {}
        for c in found:
            by_name.setdefault(c.name, []).append(c)
        customers = [self._customer(n, v, by_code, by_name, problems) for n, v, problems in parsed]
        existing = self.existing(sorted({c.id for c in customers if c is not None}))
        out = []
        for (n, values, problems), c in zip(parsed, customers, strict=True):
            if problems:
                out.append(("skip", values, None, None, problems))
                continue
            key = self.key(c, values)
            first = self.seen.check([("row", key)], n) if seen else None
            if first is not None:
                out.append(("skip", values, c, None, [Problem(n, "", ctx.t("import.err.duplicate_row", row=first))]))
                continue
            action, extra = self.action(c, values, existing.get(key))
            if action == "skip":
                out.append(("skip", values, c, None, [Problem(n, f, ctx.t(k)) for f, k in extra]))
                continue
            out.append((action, values, c, extra, []))
        return out

    def _customer(self, n: int, values: dict, by_code: dict[str, Customer], by_name: dict[str, list[Customer]],
                  problems: list[Problem]) -> Customer | None:
        ctx = self.ctx
        field, query = ("customer_code", values.get("customer_code")) if values.get("customer_code") else (
            "customer_name", values.get("customer_name"))
        if not query:
            return None
        if field == "customer_code":
            hits = [by_code[query]] if query in by_code else []
        else:
            hits = by_name.get(query, [])
        hits = [c for c in hits if can_see_customer(ctx, c)]
        if len(hits) > 1:
            problems.append(Problem(n, field, ctx.t("import.err.customer_ambiguous", name=query, count=len(hits))))
        elif not hits:
            problems.append(Problem(n, field, ctx.t("lookup.not_found", query=query)))
        elif not can_edit_customer(ctx, hits[0]):
            problems.append(Problem(n, field, ctx.t("cust.err.edit_forbidden")))
        else:
            return hits[0]
        return None

    def check(self, rows: list[tuple[int, dict[str, str]]]) -> list[tuple[str, list[Problem]]]:
        return [(d[0], d[4]) for d in self._decide(rows, seen=True)]

    def write(self, rows: list[tuple[int, dict[str, str]]]) -> None:
        decided = self._decide(rows, seen=False)
        self.insert([(c, values) for action, values, c, _, _ in decided if action == "create"])
        self.update([(c, values, extra) for action, values, c, extra, _ in decided if action == "update"])
        self.ctx.session.flush()


def importer(kind: type[RecordImport]) -> Callable[..., ImportReport]:
    def import_kind(ctx: Ctx, path: Path, *, apply: bool = False, only_good: bool = False,
                    on_progress: Callable[[int], None] | None = None) -> ImportReport:
        return run(ctx, kind(ctx), path, kind.headers, kind.known, apply=apply, only_good=only_good,
                   on_progress=on_progress)

    import_kind.__doc__ = f"Check every row of a {kind.name} file; with `apply`, write (all or nothing, or only_good)."
    return import_kind
