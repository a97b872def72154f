"""The engine every spreadsheet import runs on (customers, contacts, follow-ups, purchases).

Reading: a CSV in UTF-8, UTF-8 with a BOM or GBK/GB18030 (detected, and reported) or an XLSX file, streamed
row by row. Mapping: each kind's headers (English or Chinese, as `export` writes them) to its fields; unknown
columns are listed. Two passes over the file, so memory stays flat whatever its length:

1. check: every row is parsed and matched (`Kind.check`); the report gets its action (create, update,
   unchanged, skip) and every problem by row and field. Only what duplicate detection needs is kept
   (`Seen`: 64-bit hashes of the normalised keys).
2. write (with `apply`, when every row is good or the user chose `only_good`): the rows to write are read
   again and handed to `Kind.write` in batches of `BATCH`, which writes each batch with bulk inserts.

All or nothing: both passes run in the caller's unit of work, which commits once at the end (a failure in
the middle rolls everything back, the reserved customer codes included).
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from handlers import exporting
from handlers.context import Ctx
from handlers.errors import UserError
from handlers.i18n import LANGS
from handlers.services import audit

BATCH = 500
_MEMO_MAX = 5000  # distinct values remembered per memoised field (industries, owners, dates …)

Progress = Callable[[int], None]


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
    kind: str = "customers"
    labels: dict[str, str] = field(default_factory=dict)  # field → the i18n key of its name

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
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def open_rows(path: Path) -> tuple[str, Callable[[], Iterator[list[str]]]]:
    """(encoding, a function that streams the rows afresh, header first)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return "xlsx", lambda: _xlsx_rows(path)
    enc = detect_encoding(path)
    return enc, lambda: _csv_rows(path, enc)


def with_reader_headers(kind: str, headers: dict[str, str], known: frozenset[str]
                        ) -> tuple[dict[str, str], frozenset[str]]:
    """`headers` and `known` plus the column names `export` writes for a reader of each language
    (`exporting.header`: 客户编号, Customer code, …): a column the importer reads gets its reader's names too,
    any other is known and ignored. So every file `export` writes comes back, whatever its reader's language."""
    more, ignored = dict(headers), set(known)
    for column in exporting.COLUMNS.get(kind, ()):
        field = headers.get(column.lower())
        for lang in LANGS:
            label = exporting.header(kind, column, lang).lower()
            if field is not None:
                more.setdefault(label, field)
            elif label not in more:
                ignored.add(label)
    return more, frozenset(ignored)


def map_headers(header: list[str], headers: dict[str, str], known: frozenset[str] = frozenset()
                ) -> tuple[dict[int, str], dict[str, str], list[str]]:
    """(column index → field, header → field, unknown headers). `headers` maps lower-cased spellings to fields;
    `known` columns (written by `export`, not typed in) are read and ignored without a word."""
    idx: dict[int, str] = {}
    named: dict[str, str] = {}
    unknown: list[str] = []
    for i, h in enumerate(header):
        key = (h or "").strip().lstrip("\ufeff")
        canon = headers.get(key.lower())
        if canon and canon not in idx.values():
            idx[i], named[key] = canon, canon
        elif key and key.lower() not in known:
            unknown.append(key)
    return idx, named, unknown


def _rows(stream: Iterator[list[str]], idx: dict[int, str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, {field: text}) for every row with something in it; empty cells are left out."""
    for n, cells in enumerate(stream, start=2):
        raw = {idx[i]: v.strip() for i, v in enumerate(cells) if i in idx and v and v.strip()}
        if raw or any(v.strip() for v in cells if v):
            yield n, raw


# ---------------------------------------------------------------- helpers for the kinds


def problem(ctx: Ctx, row: int, name: str, e: UserError) -> Problem:
    return Problem(row, name, ctx.t(e.key, **e.params))


class Memo:
    """A parser of a low-variety field (industry, owner, date …) that remembers its answers, errors included,
    for up to `_MEMO_MAX` distinct texts: 100,000 rows naming 5 owners look each one up once."""

    def __init__(self, parse: Callable[[Ctx, str, dict], Any]) -> None:
        self.parse = parse
        self.known: dict[str, tuple[Any, UserError | None]] = {}

    def __call__(self, ctx: Ctx, text: str, values: dict) -> Any:
        hit = self.known.get(text)
        if hit is None:
            try:
                hit = (self.parse(ctx, text, values), None)
            except UserError as e:
                hit = (None, e)
            if len(self.known) < _MEMO_MAX:
                self.known[text] = hit
        if hit[1] is not None:
            raise hit[1]
        return hit[0]


def parse_fields(ctx: Ctx, n: int, raw: dict[str, str], parsers: dict[str, Callable]) -> tuple[dict, list[Problem]]:
    """Every field parsed; every bad field is a problem (not only the first)."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for k, text in raw.items():
        try:
            values[k] = parsers[k](ctx, text, values)
        except UserError as e:
            problems.append(problem(ctx, n, k, e))
    return values, problems


class Seen:
    """Keys already used by an earlier row of the file, kept compact: a 64-bit hash of (key, value) → the first
    row that used it. About 100 bytes a key, whatever the text."""

    def __init__(self) -> None:
        self.keys: dict[int, int] = {}

    def check(self, keys: list[tuple[str, str | None]], n: int) -> int | None:
        """The first earlier row that shares one of `keys` (then nothing is remembered), else None."""
        hashed = [hash(k) for k in keys if k[1]]
        for h in hashed:
            if h in self.keys:
                return self.keys[h]
        for h in hashed:
            self.keys[h] = n
        return None


# ---------------------------------------------------------------- the driver


class Kind(Protocol):
    """One kind of import, for one run: its state (what it matches rows against) lives on the instance.
    Rows come in batches of up to `BATCH` (row number, {field: text}), so a kind reads what it needs for a
    whole batch with a few queries."""

    name: str
    labels: dict[str, str]

    def check(self, rows: list[tuple[int, dict[str, str]]]) -> list[tuple[str, list[Problem]]]:
        """First pass, per row: ("create" | "update" | "unchanged" | "skip", problems). Remembers the keys
        that make a later row of the file a duplicate (`Seen`)."""

    def write(self, rows: list[tuple[int, dict[str, str]]]) -> None:
        """Second pass: write these rows, which the first pass let through (bulk inserts), in the caller's
        unit of work."""


def run(ctx: Ctx, kind: Kind, path: Path, headers: dict[str, str], known: frozenset[str], *, apply: bool,
        only_good: bool, on_progress: Progress | None) -> ImportReport:
    """Check every row of `path`; with `apply`, write the good rows if all are good (or with `only_good`).

    `on_progress(n)` is called every `BATCH` rows: with the rows checked so far during the first pass, then,
    when writing, once with 0 (the write pass starts) and with the rows written so far. A written
    import gets one audit entry of its own (action `import`, entity `import`, the actor's id, the kind as
    code, the file's name and counts as value) besides those of the records it wrote.
    """
    encoding, stream = open_rows(path)
    rows = stream()
    headers, known = with_reader_headers(kind.name, headers, known)
    idx, named, unknown = map_headers(next(rows, []), headers, known)
    report = ImportReport(encoding=encoding, columns=named, unknown_columns=unknown, kind=kind.name,
                          labels=kind.labels)
    lists = {"create": report.created, "update": report.updated, "unchanged": report.unchanged,
             "skip": report.skipped}
    for batch in _batches(_rows(rows, idx)):
        for (n, _), (action, problems) in zip(batch, kind.check(batch), strict=True):
            report.problems.extend(problems)
            lists[action].append(n)
        report.rows += len(batch)
        if on_progress:
            on_progress(report.rows)
    if apply and (report.ok or only_good) and (report.created or report.updated):
        _write(kind, stream, idx, report, on_progress)
        audit.record(ctx.session, actor_id=ctx.staff.id, action="import", entity="import", entity_id=ctx.staff.id,
                     entity_code=kind.name, new=f"{path.name}: {len(report.created)} created, "
                     f"{len(report.updated)} updated", now=ctx.now)
        ctx.session.flush()
        report.applied = True
    return report


def _batches(rows: Iterator[tuple[int, dict[str, str]]]) -> Iterator[list[tuple[int, dict[str, str]]]]:
    batch: list[tuple[int, dict[str, str]]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _write(kind: Kind, stream: Callable[[], Iterator[list[str]]], idx: dict[int, str], report: ImportReport,
           on_progress: Progress | None) -> None:
    """The rows the first pass would write (both lists are in file order: walked, not copied into a set)."""
    rows = stream()
    next(rows, None)
    done = 0
    if on_progress:
        on_progress(0)
    for batch in _batches(_wanted(_rows(rows, idx), _merged(report.created, report.updated))):
        kind.write(batch)
        done += len(batch)
        if on_progress:
            on_progress(done)


def _wanted(rows: Iterator[tuple[int, dict[str, str]]], todo: Iterator[int]) -> Iterator[tuple[int, dict[str, str]]]:
    want = next(todo, None)
    for n, raw in rows:
        if n == want:
            yield n, raw
            want = next(todo, None)


def _merged(a: list[int], b: list[int]) -> Iterator[int]:
    i = j = 0
    while i < len(a) or j < len(b):
        if j >= len(b) or (i < len(a) and a[i] < b[j]):
            yield a[i]
            i += 1
        else:
            yield b[j]
            j += 1
