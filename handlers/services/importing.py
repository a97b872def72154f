"""Customers from a spreadsheet (`crm-bot import customers`, `/import`), on the shared engine
(`handlers.services.import_engine`: reading, header mapping, the two passes, the report).

Every row is checked with the same parsers as the commands (`customers.PARSERS`), matched to an existing
customer (by code, else normalised name, else a contact's phone) and reported as created, updated, unchanged
or skipped with every problem by row and field. With `apply`, new customers are written in batches: a block
of codes reserved at once (`storage.codes.customer_codes`, gap-free and race-safe), then one multi-row insert
each for the customers, their primary contacts, their tags and their `create` audit entries. Matched rows go
through `customers.edit_customer` (an audit entry per changed field; approvals where the rules want them).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from handlers.context import Ctx
from handlers.errors import NotFound, UserError
from handlers.lookup import normalize_name
from handlers.permissions import can_edit_customer
from handlers.services import audit
from handlers.services import customers as cust
from handlers.services.import_engine import (  # noqa: F401 - the importer's public names live here too
    ImportReport,
    Memo,
    Problem,
    Seen,
    detect_encoding,
    map_headers,
    open_rows,
    parse_fields,
    problem,
    run,
)
from storage import codes
from storage.db import insert_ignore
from storage.models import Contact, Customer, CustomerTag, Tag
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
                         "负责人编号", "负责人id", "录入日期", "更新时间", "最近跟进", "最近跟进时间", "下次跟进时间"})
LABELS = {**{f: f"cust.f.{f}" for f in cust.PARSERS}, "code": "import.code"}
_MEMO = ("industry", "type", "grade", "owner", "source")


def import_customers(ctx: Ctx, path: Path, *, owner: int | None = None, apply: bool = False,
                     only_good: bool = False, progress: Callable[[int], None] | None = None,
                     on_progress: Callable[[int], None] | None = None) -> ImportReport:
    """Check every row of `path`; with `apply`, write the good rows if all are good (or with `only_good`).

    `owner`: the owner of rows without one (default: the actor). `on_progress(n_rows)` (or its older name
    `progress`): see `import_engine.run`. The caller commits (one unit of work: all or nothing).
    """
    return run(ctx, CustomerImport(ctx, owner), path, HEADERS, EXPORT_ONLY, apply=apply, only_good=only_good,
               on_progress=on_progress or progress)


class Existing:
    """The saved customers a batch of rows may be about, by code, normalised name and contact phone (read for
    the batch: nothing is held between batches, so memory does not grow with the database)."""

    def __init__(self, ctx: Ctx, rows: list[dict]) -> None:
        self.code, self.name, self.phone = customer_repo.match_keys(
            ctx.session, codes=[v["code"] for v in rows if v.get("code")],
            names=[normalize_name(v["name"]) for v in rows if v.get("name")],
            phones=[v["phone"] for v in rows if v.get("phone")])

    def match(self, values: dict) -> int | None:
        """The id of the existing customer a row is about: by code, else normalised name, else a phone."""
        if values.get("code"):
            return self.code.get(values["code"])
        return (self.name.get(normalize_name(values["name"])) if values.get("name") else None) or (
            self.phone.get(values["phone"]) if values.get("phone") else None)


def changes_for(c: Customer, cur: dict[str, Any], values: dict) -> dict[str, Any]:
    """The fields of `values` that differ from the customer's current values (`cur`)."""
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


class CustomerImport:
    """One run of the customer import: the parsers (low-variety fields memoised), the file's keys seen so far,
    the saved customers the rows to update are about, and the tag ids met while writing."""

    name = "customers"
    labels = LABELS

    def __init__(self, ctx: Ctx, owner: int | None) -> None:
        self.ctx, self.owner = ctx, owner
        self.parsers = {k: Memo(p) if k in _MEMO else p for k, p in cust.PARSERS.items()}
        self.seen = Seen()
        self.owners: dict[int, UserError | None] = {}
        self.tags: dict[str, int] = {}
        self.matched: dict[int, int] = {}  # row → the saved customer it updates (only rows to update)

    # ------------------------------------------------------------ checking

    def _parse(self, n: int, raw: dict[str, str]) -> tuple[dict, list[Problem]]:
        ctx = self.ctx
        code = raw.pop("code", None)
        values, problems = parse_fields(ctx, n, raw, self.parsers)
        if code:
            values["code"] = code.strip().upper()
        if "owner" not in raw and self.owner is not None:
            values["owner"] = self.owner
        if "name" not in raw:
            problems.append(Problem(n, "name", ctx.t("dlg.required")))
        if values.get("owner") not in (None, ctx.staff.id) and not problems:
            e = self._owner_problem(values["owner"])
            if e is not None:
                problems.append(problem(ctx, n, "owner", e))
        if values.get("grade") not in (None, "auto") and ctx.role not in ("manager", "admin"):
            problems.append(Problem(n, "grade", ctx.t("cust.err.grade_forbidden")))
        return values, problems

    def _owner_problem(self, owner_id: int) -> UserError | None:
        if owner_id not in self.owners:
            try:
                cust.check_owner(self.ctx, owner_id)
                self.owners[owner_id] = None
            except UserError as e:
                self.owners[owner_id] = e
        return self.owners[owner_id]

    def _decide(self, rows: list[tuple[int, dict[str, str]]], *, seen: bool
                ) -> list[tuple[str, dict, tuple[Customer, dict] | None, list[Problem]]]:
        """Per row: ("create" | "update" | "unchanged" | "skip", values or changes, the matched customer
        with its current values, problems). The matched customers of the batch and their current values are read at once."""
        ctx = self.ctx
        first_pass = [(n, *self._parse(n, raw)) for n, raw in rows]
        existing = Existing(ctx, [values for _, values, problems in first_pass if not problems])
        parsed = []
        for n, values, problems in first_pass:
            cid = None if problems else existing.match(values)
            if seen:  # two rows about one customer: the same key, or keys that match the same saved customer
                first = self.seen.check([("code", values.get("code")),
                                         ("name", values.get("name") and normalize_name(values["name"])),
                                         ("phone", values.get("phone")), ("id", cid and str(cid))], n)
                if first is not None:
                    problems.append(Problem(n, "", ctx.t("import.err.duplicate", row=first)))
            parsed.append((n, values, cid, problems))
        current = customer_repo.current_values_many(ctx.session, [cid for _, _, cid, _ in parsed if cid])
        return [self._action(n, values, current.get(cid) if cid else None, problems)
                for n, values, cid, problems in parsed]

    def _action(self, n: int, values: dict, match: tuple[Customer, dict] | None, problems: list[Problem]
                ) -> tuple[str, dict, tuple[Customer, dict] | None, list[Problem]]:
        ctx = self.ctx
        if problems:
            return "skip", values, None, problems
        if match is None and values.get("code"):
            return "skip", values, None, [Problem(n, "code", ctx.t("lookup.not_found", query=values["code"]))]
        if match is None:
            missing = [f for f in cust.REQUIRED if not values.get(f)]
            if missing:
                return "skip", values, None, [Problem(n, f, ctx.t("dlg.required")) for f in missing]
            return "create", values, None, []
        c, cur = match
        if not can_edit_customer(ctx, c):
            return "skip", values, None, [Problem(n, "", ctx.t("cust.err.edit_forbidden"))]
        changes = changes_for(c, cur, values)
        return ("update" if changes else "unchanged"), changes, match, []

    def check(self, rows: list[tuple[int, dict[str, str]]]) -> list[tuple[str, list[Problem]]]:
        decided = self._decide(rows, seen=True)
        for (n, _), (action, _, match, _) in zip(rows, decided, strict=True):
            if action == "update":
                self.matched[n] = match[0].id  # the write pass needs not match the rows again
        return [(action, problems) for action, _, _, problems in decided]

    # ------------------------------------------------------------ writing

    def write(self, rows: list[tuple[int, dict[str, str]]]) -> None:
        """The rows the check let through: a row it matched updates that customer, any other is new."""
        parsed = [(n, self._parse(n, raw)[0]) for n, raw in rows]
        ids = [self.matched[n] for n, _ in parsed if n in self.matched]
        current = customer_repo.current_values_many(self.ctx.session, ids)
        self._create([values for n, values in parsed if n not in self.matched])
        for n, values in parsed:
            if n in self.matched:
                if self.matched[n] not in current:  # merged away since the check: the import fails as a whole
                    raise NotFound("lookup.not_found", query=values.get("code") or values.get("name", ""))
                c, cur = current[self.matched[n]]
                cust.edit_customer(self.ctx, c, changes_for(c, cur, values), cur=cur, flush=False)
        self.ctx.session.flush()

    def _create(self, batch: list[dict]) -> None:
        """New customers: a block of codes, then one insert each for customers, contacts, tags, audit entries."""
        if not batch:
            return
        ctx, s = self.ctx, self.ctx.session
        rows = [cust.customer_row(ctx, v) for v in batch]
        year = ctx.now.astimezone(ctx.tz).year
        for row, code in zip(rows, codes.customer_codes(s, abbr=ctx.settings.company_abbr, year=year,
                                                        n=len(rows)), strict=True):
            row["code"] = code
        table = Customer.__table__
        by_code = dict(s.execute(insert(table).returning(table.c.code, table.c.id), rows).all())  # codes are unique
        ids = [by_code[r["code"]] for r in rows]
        contacts = [r for r in (cust.contact_row(cid, v, ctx.now) for cid, v in zip(ids, batch, strict=True)) if r]
        if contacts:
            s.execute(insert(Contact.__table__), contacts)
        tagged = [(cid, v["tags"]) for cid, v in zip(ids, batch, strict=True) if v.get("tags")]
        if tagged:
            tag_id = self._tag_ids({t for _, names in tagged for t in names})
            s.execute(insert(CustomerTag.__table__),
                      [{"customer_id": cid, "tag_id": tag_id[t]} for cid, names in tagged for t in names])
        audit.record_many(s, [audit.entry(actor_id=ctx.staff.id, action="create", entity="customer", entity_id=cid,
                                          entity_code=row["code"], new=row["name"], now=ctx.now)
                              for cid, row in zip(ids, rows, strict=True)])

    def _tag_ids(self, names: set[str]) -> dict[str, int]:
        s = self.ctx.session
        missing = [n for n in names if n not in self.tags]
        if missing:
            self.tags.update(customer_repo.tag_ids(s, missing))
            for name in (n for n in missing if n not in self.tags):
                insert_ignore(s, Tag, conflict=["name"], name=name)  # another unit of work may add it too
            self.tags.update(customer_repo.tag_ids(s, [n for n in missing if n not in self.tags]))
        return self.tags
