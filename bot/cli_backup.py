"""`crm-bot backup FILE` and `crm-bot restore FILE [--yes]` (storage/backup.py does the work)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.prompt import confirm


def register(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("backup", help="a consistent copy of the SQLite database, safe while the bot runs")
    b.add_argument("file", help="where to write the copy (replaced if it exists)")
    b.set_defaults(func=cmd_backup)
    r = sub.add_parser("restore", help="replace the database with a backup (the bot must be stopped)")
    r.add_argument("file", help="a file written by `crm-bot backup` or the nightly backup job")
    r.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    r.set_defaults(func=cmd_restore)


def _fail(msg: str) -> int:
    print(f"crm-bot: {msg}", file=sys.stderr)
    return 2


def _rows(rows: dict[str, int]) -> str:
    return ", ".join(f"{n} {table}" for table, n in rows.items())


def cmd_backup(args: argparse.Namespace) -> int:
    # lazy: keeps --help light
    from bot import app as app_mod
    from storage import backup
    from storage.db import is_sqlite

    a = app_mod.build()
    dest = Path(args.file)
    if not is_sqlite(a.engine):  # build() has connected: the server is reachable
        print(f"PostgreSQL at {app_mod.safe_url(a.config.database_url)} is reachable. Back it up with:")
        print("  " + backup.pg_dump_command(a.config.database_url, dest))
        print("and restore with: pg_restore --clean --if-exists --dbname=<url> " + str(dest))
        return 0
    try:
        snap = backup.backup(a.engine, dest)
    except backup.BackupError as e:
        return _fail(str(e))
    print(f"backup written: {snap.path} ({snap.size:,} bytes, schema {snap.revision}): {_rows(snap.rows)}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    # lazy: keeps --help light
    from bot import app as app_mod
    from storage import backup
    from storage.db import is_sqlite, utcnow

    src = Path(args.file)
    a = app_mod.build(migrate=False)  # the database being replaced may be older or damaged: no upgrade first
    if not is_sqlite(a.engine):
        return _fail("restore is for the SQLite database; for PostgreSQL use pg_restore (see `crm-bot backup`)")
    try:
        snap = backup.check_restorable(a.engine, src, now=utcnow())
    except backup.BackupError as e:
        return _fail(str(e))
    target = backup.sqlite_file(a.engine)
    print(f"{src}: schema {snap.revision}, {_rows(snap.rows)}")
    print(f"this replaces {target} (the current database is kept beside it as a .before-restore copy)")
    go = confirm(args.yes, "Restore?")
    if go is None:
        return _fail("nothing restored; give --yes to restore")
    if not go:
        print("nothing restored")
        return 1
    try:
        done, kept = backup.restore(a.engine, src, now=utcnow())
    except backup.BackupError as e:
        return _fail(str(e))
    if kept is not None:
        print(f"the previous database is kept as {kept}")
    print(f"restored {target} (schema {done.revision}): {_rows(done.rows)}")
    return 0
