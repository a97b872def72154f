"""`/import` in chat: a spreadsheet sent in a chat (a Slack DM, a Telegram document, a console path) is checked
at once (a dry run, nothing written) and kept in the upload folder until its sender presses Import, Import only
the good rows, or Cancel (`UploadStore`, 24 hours at most). A press imports once: the first one records the
file's key in the unit of work that writes the customers, a second waits for it and finds it done.

A file is one kind (`import_kinds.IMPORTS`): customers, contacts, follow-ups or purchases, the one the user
named with it or, when they did not, the one its header row fits (`import_kinds.detect_kind`); it is kept with
the file, so the button imports what was checked.

Who may import into whose book is the importer's rule (`importing.check_row`): reps into their own, managers
for their team, admins anyone; a default owner (`owner:NAME`) is checked the same way (`customers.check_owner`).
"""

from __future__ import annotations

import csv
import logging
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl.utils.exceptions import InvalidFileException

from handlers.context import Attachment, Ctx
from handlers.errors import Forbidden, InvalidInput, UserError
from handlers.lookup import find_staff
from handlers.services import customers as cust
from handlers.services.import_engine import open_rows
from handlers.services.import_kinds import IMPORTS, detect_kind
from handlers.services.importing import ImportReport
from storage.db import insert_ignore
from storage.models import ProcessedUpdate, Staff
from storage.repos import chats
from storage.uploads import UploadStore

log = logging.getLogger("crm.import")

ROLES = ("admin", "manager", "rep")  # who may import (adapters fetch files only for them)
UPLOAD_TTL = timedelta(hours=24)
XLSX = (".xlsx", ".xlsm")
SUFFIXES = (".csv", *XLSX)
OLD_EXCEL = (".xls", ".et", ".numbers", ".ods")
MB = 1 << 20
NAME_MAX = 80  # a file name as shown (Slack headers take 150 characters)


@dataclass
class Checked:
    """A file after its dry run: `key` is where it waits for the buttons ("" when there is nothing to import)."""

    key: str
    name: str
    report: ImportReport
    owner: Staff | None = None
    kind: str = "customers"
    detected: bool = False  # the kind was told from the headers, not named by the user


@dataclass
class Kept:
    key: str
    path: Path
    name: str
    owner_id: int | None
    rows: int
    todo: int
    kind: str = "customers"


def fetch_for(role: str | None, name: str, size: int, limit_mb: int) -> bool:
    """Should an adapter download this file? Only a spreadsheet, within the limit, sent by someone who may
    import; otherwise it hands the core the name and size alone and the core says what is wrong."""
    return role in ROLES and Path(name).suffix.lower() in SUFFIXES and size <= limit_mb * MB


def store(ctx: Ctx) -> UploadStore:
    return UploadStore(ctx.settings.upload_dir)


def megabytes(size: int) -> str:
    return f"{size / MB:.1f}"


def check_attachment(ctx: Ctx, att: Attachment) -> Path:
    """The local file of an attachment we can read, or a UserError saying what is wrong with it."""
    suffix = Path(att.name).suffix.lower()
    if suffix in OLD_EXCEL:
        raise InvalidInput("import.err.old_excel", name=att.name[:80])
    if suffix not in SUFFIXES:
        raise InvalidInput("import.err.type", name=att.name[:80])
    limit = ctx.settings.import_max_mb * MB
    if att.size > limit:
        raise InvalidInput("import.err.too_big", size=megabytes(att.size), max=ctx.settings.import_max_mb)
    if not att.path:
        raise InvalidInput("import.err.download", name=att.name[:80])
    path = Path(att.path)
    if not path.is_file():
        raise InvalidInput("import.err.no_file", name=att.name[:200])
    size = path.stat().st_size
    if size == 0:
        raise InvalidInput("import.err.empty", name=att.name[:80])
    if size > limit:
        raise InvalidInput("import.err.too_big", size=megabytes(size), max=ctx.settings.import_max_mb)
    if suffix in XLSX and not is_workbook(path):
        raise InvalidInput("import.err.unreadable")
    return path


def is_workbook(path: Path) -> bool:
    """A zip with a workbook in it (what openpyxl opens); a renamed or damaged file is not."""
    try:
        with zipfile.ZipFile(path) as z:
            return "xl/workbook.xml" in z.namelist()
    except zipfile.BadZipFile:
        return False


def default_owner(ctx: Ctx, name: str | None) -> Staff | None:
    """`owner:NAME`: whose book rows without an owner column go into (the importer's own book when absent)."""
    if not name:
        return None
    owner = find_staff(ctx, name)
    if owner.id != ctx.staff.id:
        cust.check_owner(ctx, owner.id)
    return owner


def header_kind(path: Path) -> str:
    """The kind the file's header row fits (customers when it fits none better)."""
    with _readable(path):
        _, stream = open_rows(path)
        rows = stream()
        try:
            return detect_kind(next(rows, []))
        finally:
            close = getattr(rows, "close", None)
            if close:
                close()


def dry_run(ctx: Ctx, path: Path, *, kind: str = "customers", owner: int | None = None, apply: bool = False,
            only_good: bool = False, progress: Callable[[int], None] | None = None) -> ImportReport:
    """The kind's import with a file it cannot read turned into a short answer (wrong encoding, not a real
    spreadsheet) instead of an error with a reference."""
    with _readable(path):
        if kind == "customers":
            return IMPORTS[kind](ctx, path, owner=owner, apply=apply, only_good=only_good, on_progress=progress)
        return IMPORTS[kind](ctx, path, apply=apply, only_good=only_good, on_progress=progress)


@contextmanager
def _readable(path: Path) -> Iterator[None]:
    try:
        yield
    except (UnicodeDecodeError, csv.Error) as e:
        log.info("import: %s is not readable text: %s", path.name, type(e).__name__)
        raise InvalidInput("import.err.encoding") from None
    except (zipfile.BadZipFile, InvalidFileException) as e:
        if path.suffix.lower() not in XLSX:
            raise
        log.info("import: %s is not a readable xlsx: %s", path.name, type(e).__name__)
        raise InvalidInput("import.err.unreadable") from None


def check_upload(ctx: Ctx, att: Attachment, *, owner_name: str | None = None, kind: str | None = None,
                 progress: Callable[[int], None] | None = None) -> Checked:
    """The dry run of a file sent in chat (`kind`: what the user named, else told from the headers; `progress`:
    rows checked so far); with something to import, the file is kept for the buttons."""
    src = check_attachment(ctx, att)
    name = att.name.strip()[:NAME_MAX] or "file"
    detected = kind is None
    kind = header_kind(src) if kind is None else kind
    if kind not in IMPORTS:
        raise ValueError(f"no import of {kind!r}")
    if owner_name and kind != "customers":
        raise InvalidInput("import.err.owner_kind")
    owner = default_owner(ctx, owner_name)
    report = dry_run(ctx, src, kind=kind, owner=owner.id if owner else None, progress=progress)
    if report.rows == 0:
        raise InvalidInput("import.err.empty", name=att.name[:80])
    todo = len(report.created) + len(report.updated)
    if not todo:
        return Checked("", name, report, owner, kind, detected)
    st = store(ctx)
    st.sweep(ctx.now)
    key = st.put(src, suffix=Path(att.name).suffix.lower(), meta={
        "actor": ctx.staff.id, "platform": ctx.platform, "chat": ctx.chat_ref, "name": name,
        "owner": owner.id if owner else None, "kind": kind, "rows": report.rows, "todo": todo,
        "expires": (ctx.now + UPLOAD_TTL).isoformat()})
    return Checked(key, name, report, owner, kind, detected)


def kept(ctx: Ctx, key: str) -> Kept:
    """The file waiting under `key` for this user; gone (never was, expired, done, cancelled) or someone
    else's is a UserError."""
    st = store(ctx)
    got = st.get(key)
    if got is None:
        raise UserError("import.err.done" if decided(ctx, key) else "import.err.gone")
    path, meta = got
    if meta.get("actor") != ctx.staff.id:
        log.warning("import %s pressed by staff %s, not by its sender", key, ctx.staff.id)
        raise Forbidden("import.err.not_yours")
    if datetime.fromisoformat(str(meta["expires"])) <= ctx.now:
        st.delete(key)
        raise UserError("import.err.gone")
    return Kept(key, path, str(meta.get("name", path.name)), meta.get("owner"), int(meta.get("rows") or 0),
                int(meta.get("todo") or 0), str(meta.get("kind") or "customers"))


def decided(ctx: Ctx, key: str) -> bool:
    return chats.processed(ctx.session, platform="import", key=key)


def claim(ctx: Ctx, key: str) -> bool:
    """Record that `key` is decided (imported or cancelled), in this unit of work: False when it was already
    (a second press waits here for the first one's transaction, then finds it)."""
    return insert_ignore(ctx.session, ProcessedUpdate, conflict=["platform", "key"], platform="import",
                         key=key, at=ctx.now)


class Progress:
    """The importer counts rows checked, then rows written, each from the start: one count of work done out of
    (rows to check + rows to write)."""

    def __init__(self, total: int, show: Callable[[int, int], None]) -> None:
        self.total, self.show = max(total, 1), show
        self.base = self.last = 0

    def __call__(self, n: int) -> None:
        if n < self.last:  # the write pass started over
            self.base += self.last
        self.last = n
        self.show(min(self.base + n, self.total), self.total)


def run_import(ctx: Ctx, key: str, *, only_good: bool,
               progress: Callable[[int, int], None] | None = None) -> tuple[Kept, ImportReport | None]:
    """Import the kept file: (the file, its report), or (the file, None) when it was already imported or
    cancelled. The file is deleted either way."""
    item = kept(ctx, key)
    if not claim(ctx, key):
        return item, None
    meter = Progress(item.rows + item.todo, progress) if progress else None
    if progress:
        progress(0, item.rows + item.todo)
    report = dry_run(ctx, item.path, kind=item.kind, owner=item.owner_id, apply=True, only_good=only_good, progress=meter)
    store(ctx).delete(key)  # imported; or rows turned bad since the check (the report says so): sent again
    return item, report


def cancel_import(ctx: Ctx, key: str) -> Kept | None:
    """Forget the kept file (deleted now); None when it was imported or cancelled before."""
    item = kept(ctx, key)
    if not claim(ctx, key):
        return None
    store(ctx).delete(key)
    return item
