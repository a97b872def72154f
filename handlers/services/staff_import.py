"""`crm-bot staff import FILE`: one row a person, the columns of `staff edit` (English or Chinese headers).

A row whose name matches an existing member of staff edits them (an audit row per changed
field); any other row adds one (it needs a role), with a `create` audit row (actor: the importer; None from
the CLI, as for `staff edit`).
Every row is checked with `staff_edit.validate` in the caller's unit of work, in file order (so a row can name
as manager someone added by an earlier row, and an id used twice in the file is caught). The caller commits
only when `problems` is empty and the user said yes: all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from handlers.errors import InvalidInput
from handlers.services import audit, staff_edit
from storage.models import Staff
from storage.repos import staff as staff_repo


@dataclass(frozen=True)
class Problem:
    row: int  # the file's row number (the header is row 1)
    key: str
    params: dict


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def columns(header: Iterable[str]) -> list[str]:
    """The staff field each header names (`InvalidInput` for an unknown one)."""
    return [staff_edit.field_of(h.replace(" ", "_") if h else "") for h in header]


def _row(session: Session, raw: dict[str, str], *, actor_id: int | None, now: datetime,
         defaults: dict[str, str], result: ImportResult) -> None:
    name = (raw.get("name") or "").strip()
    if not name:
        raise InvalidInput("staffedit.err.name")
    existing = staff_repo.get_by_name(session, name=name, active=False)
    if existing is not None and existing.name.lower() != name.lower():
        existing = None  # a prefix match is another person
    changes = {k: v for k, v in raw.items() if k != "name" and v is not None and str(v).strip() != ""}
    if existing is None:
        if "role" not in changes:
            raise InvalidInput("staffimport.err.role")
        existing = Staff(name="", role=changes["role"], tz=defaults["tz"], lang=defaults["lang"], notify="console",
                         active=True, created_at=now)
        changes = {"name": name, **changes}
        changes.setdefault("notify", "slack" if changes.get("slack_id") else
                           "telegram" if changes.get("telegram_id") else "console")
        values = staff_edit.validate(session, existing, changes)
        for k, v in values.items():
            setattr(existing, "manager_id" if k == "manager" else k, v)
        session.add(existing)
        session.flush()
        audit.record(session, actor_id=actor_id, action="create", entity="staff", entity_id=existing.id,
                     new=existing.name, now=now)
        result.created.append(name)
        return
    values = staff_edit.validate(session, existing, changes)
    changed = staff_edit.apply(session, actor_id=actor_id, target=existing, values=values, now=now)
    (result.updated if changed else result.unchanged).append(name)


def import_rows(session: Session, rows: Iterable[dict[str, str]], *, actor_id: int | None, now: datetime,
                defaults: dict[str, str]) -> ImportResult:
    """Apply every row in `session`; each row's problem is collected (the caller rolls back if any)."""
    result = ImportResult()
    for n, raw in enumerate(rows, start=2):
        try:
            with session.begin_nested():
                _row(session, raw, actor_id=actor_id, now=now, defaults=defaults, result=result)
        except InvalidInput as e:
            result.problems.append(Problem(n, e.key, e.params))
    return result
