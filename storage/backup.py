"""Backups and restores of the embedded SQLite database (`crm-bot backup`, `crm-bot restore`, the nightly job).

- `backup(engine, dest)`: a consistent online copy while the bot runs. `VACUUM INTO` reads one snapshot (WAL
  readers never block writers, nor are blocked), writes a compact file next to `dest` and renames it into
  place, so a reader of `dest` never sees half a backup. The copy is checked (`PRAGMA quick_check`) and
  private (0600).
- `restore(engine, src)`: checks that `src` is a crm-bot database whose schema this version knows (an older
  one is migrated after the copy; a newer one is refused), that no bot holds the scheduler lease on the target,
  keeps the current database as `<db>.before-restore-<time>`, then copies `src` page by page through SQLite's
  backup API (locks and the WAL are handled by SQLite, never by copying files under it).
- PostgreSQL has its own tools: `pg_dump_command` prints the command for the configured database.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from storage.files import private_file
from storage.migrate import head, known, upgrade
from storage.models import SchedulerLease

# tables whose row counts a backup reports (what a team would check first)
COUNTED = ("customer", "contact", "followup", "opportunity", "ticket", "staff")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is one line for the operator."""


@dataclass(frozen=True)
class Snapshot:
    path: Path
    revision: str | None
    size: int
    rows: dict[str, int]


def sqlite_file(engine: Engine) -> Path:
    url = engine.url
    if url.get_backend_name() != "sqlite":
        raise BackupError("this is for the SQLite database; for PostgreSQL use pg_dump (`crm-bot backup` prints it)")
    db = url.database or ""
    if db in ("", ":memory:") or db.startswith("file:"):
        raise BackupError("an in-memory database has nothing to back up or restore")
    return Path(db)


def inspect_file(path: Path) -> Snapshot:
    """What a backup file holds: schema revision and row counts. Raises BackupError if it is not ours."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if con.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{path}: the file is damaged (SQLite quick_check failed)")
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "alembic_version" not in tables or "customer" not in tables:
                raise BackupError(f"{path}: not a crm-bot database")
            revision = con.execute("SELECT version_num FROM alembic_version").fetchone()
            rows = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in COUNTED if t in tables}
        finally:
            con.close()
    except sqlite3.DatabaseError as e:  # "file is not a database", "unable to open"
        raise BackupError(f"{path}: not a SQLite database ({e})") from None
    return Snapshot(path=path, revision=revision[0] if revision else None, size=path.stat().st_size, rows=rows)


def backup(engine: Engine, dest: Path) -> Snapshot:
    """A consistent copy of the live database at `dest` (replaced if it exists)."""
    src = sqlite_file(engine)
    dest = dest.expanduser()
    if dest.resolve() == src.resolve():
        raise BackupError("the backup file cannot be the database itself")
    if not dest.parent.is_dir():
        raise BackupError(f"{dest.parent}: no such folder")
    tmp = dest.with_name(f".{dest.name}.partial")
    tmp.unlink(missing_ok=True)
    private_file(tmp)  # empty and 0600 before any data goes in (VACUUM INTO accepts an empty file)
    con = sqlite3.connect(src, timeout=30)
    try:
        con.execute("VACUUM INTO ?", (str(tmp),))
    except sqlite3.Error as e:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"cannot write {dest}: {e}") from None
    finally:
        con.close()
    os.replace(tmp, dest)
    return inspect_file(dest)


def bot_running(engine: Engine, now: datetime) -> SchedulerLease | None:
    """The scheduler lease of a running bot on this database, if one is held (every `crm-bot run` holds or
    contends for it; the holder renews it every few seconds)."""
    with Session(engine) as s:
        lease = s.scalars(select(SchedulerLease).where(SchedulerLease.name == "scheduler")).first()
    if lease is None:
        return None
    expires = lease.expires_at if lease.expires_at.tzinfo else lease.expires_at.replace(tzinfo=now.tzinfo)
    return lease if expires > now else None


def check_restorable(engine: Engine, src: Path, *, now: datetime) -> Snapshot:
    """Every reason to refuse, before anything is touched."""
    snap = inspect_file(src)
    if snap.revision is None or not known(snap.revision):
        raise BackupError(f"{src}: schema {snap.revision} is from a newer crm-bot (this one knows up to {head()}); "
                          "restore it with that version")
    target = sqlite_file(engine)
    if src.resolve() == target.resolve():
        raise BackupError("the backup file is the database itself")
    lease = bot_running(engine, now) if target.exists() else None
    if lease is not None:
        raise BackupError(f"a bot is running on this database ({lease.holder}); stop it first")
    return snap


def restore(engine: Engine, src: Path, *, now: datetime) -> tuple[Snapshot, Path | None]:
    """Replace the database with `src` and migrate it to this version's schema. Returns the restored snapshot
    and where the previous database was kept (None when there was none)."""
    check_restorable(engine, src, now=now)
    target = sqlite_file(engine)
    kept = None
    if target.exists() and target.stat().st_size:
        kept = target.with_name(f"{target.name}.before-restore-{now:%Y%m%d-%H%M%S}")
        backup(engine, kept)
    engine.dispose()  # no pooled connection of ours keeps an old snapshot open
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
    dest = sqlite3.connect(target, timeout=30)
    try:
        source.backup(dest)
    except sqlite3.Error as e:
        raise BackupError(f"cannot restore into {target}: {e}") from None
    finally:
        source.close()
        dest.close()
    private_file(target)
    upgrade(engine)  # an older backup gets this version's schema
    return inspect_file(target), kept


def prune(folder: Path, *, prefix: str, keep: int) -> list[Path]:
    """Delete all but the newest `keep` files named `prefix*` in `folder`; returns what was deleted."""
    files = sorted((p for p in folder.glob(f"{prefix}*") if p.is_file() and not p.name.endswith(".partial")),
                   key=lambda p: p.name, reverse=True)
    gone = files[keep:]
    for p in gone:
        p.unlink()
    return gone


def pg_dump_command(url: str, dest: Path) -> str:
    """The pg_dump line for a PostgreSQL URL (the password is left to PGPASSWORD or ~/.pgpass)."""
    u = make_url(url).set(drivername="postgresql")
    dsn = u.render_as_string(hide_password=True).replace(":***@", "@")
    return f"pg_dump --format=custom --file={dest} '{dsn}'"
