"""Schema upgrades with Alembic, run programmatically (no alembic.ini needed).

`upgrade(engine)` brings an empty or older database to the current schema:
- a database Alembic already manages is upgraded to `head`;
- an empty database gets every revision (the initial one creates all tables);
- a database made by `create_all` before migrations existed (tables, but no `alembic_version`) is adopted:
  missing tables, nullable columns (filled by their declared backfill), foreign keys and indexes are added,
  then it is stamped `head`.
On PostgreSQL an advisory lock makes concurrent start-ups wait for each other.

Schema changes are incremental revisions (`0001` the initial schema, `0002`, …), never rewritten once
released: `python -m storage.migrate revision "what changed"` (or `storage/migrations/revision.sh`)
autogenerates the next one from the models, to be reviewed and completed by hand (data backfills).
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from storage import textindex

MIGRATIONS = Path(__file__).parent / "migrations"
INITIAL_REV = "0001"
_LOCK_ID = 0x6372_6D62  # "crmb": pg_advisory_xact_lock key

log = logging.getLogger("crm.migrate")


class MigrationError(Exception):
    """The schema cannot be brought up to date (e.g. the database is from a newer crm-bot)."""


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known(revision: str) -> bool:
    """Whether `revision` is one of this version's migrations."""
    return any(s.revision == revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions())


def current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, *, verbose: bool = False) -> None:
    """Bring the database to `head`. Quiet unless `verbose` (it runs at every start-up)."""
    import storage.models  # noqa: F401 - registers the tables

    alembic_log = logging.getLogger("alembic")
    level = alembic_log.level
    if not verbose:
        alembic_log.setLevel(logging.WARNING)
    try:
        _upgrade(engine)
    except CommandError as e:
        raise MigrationError(f"cannot upgrade the schema: {str(e).splitlines()[0][:200]}") from None
    finally:
        alembic_log.setLevel(level)


def _upgrade(engine: Engine) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
        rev = current(conn)
        if rev is not None and rev == head():
            return
        if rev is not None and not known(rev):
            raise MigrationError(f"the database is at schema {rev}, which this crm-bot does not know (it knows up to "
                                 f"{head()}): it was upgraded by a newer crm-bot. Run that version (update this "
                                 "checkout and `pip install -e .`), or `crm-bot restore` a backup made by this one")
        cfg = alembic_config(conn)
        if rev is None and _is_legacy(conn):
            adopt(conn)
            command.stamp(cfg, "head")
            return
        command.upgrade(cfg, "head")


def _is_legacy(conn: Connection) -> bool:
    """Tables of ours exist but Alembic has never run here (a `create_all` database)."""
    ours = set(SQLModel.metadata.tables)
    return bool(ours & set(inspect(conn).get_table_names()))


def adopt(conn: Connection) -> None:
    """Bring a `create_all` database level with the models without losing data.

    Adds what is missing and safe to add (tables, nullable or defaulted columns, indexes); anything else
    (a changed type, a new NOT NULL column) is logged and left for a hand-written migration. A column added
    here whose model declares `info={"backfill": SQL}` is filled with that expression (as its revision does).
    """
    SQLModel.metadata.create_all(conn, checkfirst=True)
    mc = MigrationContext.configure(conn, opts={"render_as_batch": True, "include_name": textindex.include_name})
    ops = Operations(mc)
    diffs = compare_metadata(mc, SQLModel.metadata)
    diffs.sort(key=lambda d: not (isinstance(d, tuple) and d[0] == "add_column"))  # columns before indexes
    referencing: set[tuple[str, str]] = set()  # (table, column) added with its REFERENCES clause in place
    for diff in diffs:
        kind = diff[0] if isinstance(diff, tuple) else "modify"
        if kind == "add_column":
            _schema, table, column = diff[1:4]
            if column.nullable or column.server_default is not None:
                if conn.dialect.name == "sqlite" and len(column.foreign_keys) == 1:
                    _add_referencing_column(conn, table, column)
                    referencing.add((table, column.name))
                else:
                    copy = column._copy()
                    copy.index = None  # its index is an `add_index` diff of its own, created once below
                    ops.add_column(table, copy)
                if column.info.get("backfill"):
                    conn.execute(text(f"UPDATE {table} SET {column.name} = {column.info['backfill']}"))
                log.warning("added column %s.%s to a pre-migration database", table, column.name)
                continue
        elif kind == "add_index":
            idx = diff[1]
            ops.create_index(idx.name, idx.table.name, [c.name for c in idx.columns], unique=idx.unique)
            continue
        elif kind == "add_fk":
            if tuple(c.name for c in diff[1].columns) not in {(c,) for t, c in referencing if t == diff[1].parent.name}:
                _add_fk(ops, diff[1])
            continue
        log.warning("pre-migration database differs from the models (not changed): %s", diff)
    textindex.backfill_contacts(conn)  # contact.phone_norm / email_norm (computed in Python, no backfill SQL)
    textindex.install(conn)


def _add_referencing_column(conn: Connection, table: str, column) -> None:  # noqa: ANN001 - a Column
    """SQLite: a nullable column with its foreign key, added in place (a batch copy of a table that other
    tables reference cannot drop the original while foreign keys are on)."""
    (fk,) = column.foreign_keys
    kind = column.type.compile(dialect=conn.dialect)
    conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column.name} {kind} "
                      f"REFERENCES {fk.column.table.name} ({fk.column.name})"))


def _add_fk(ops: Operations, fk) -> None:  # noqa: ANN001 - a ForeignKeyConstraint
    table, ref = fk.parent.name, fk.referred_table.name
    cols = [c.name for c in fk.columns]
    with ops.batch_alter_table(table) as batch:
        batch.create_foreign_key(f"fk_{table}_{'_'.join(cols)}_{ref}", ref, cols,
                                 [e.column.name for e in fk.elements])


def revision(message: str) -> Path:
    """Autogenerate the next incremental revision (`0003`, …) from the difference between `head` and the
    models. Review it before committing: data changes (backfills) are written by hand."""
    import storage.models  # noqa: F401
    from storage.db import make_engine

    rev_id = f"{int(head() or '0') + 1:04d}"
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/head.db")
        with engine.begin() as conn:
            cfg = alembic_config(conn)
            command.upgrade(cfg, "head")
            script = command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
        engine.dispose()
    return Path(script.path)  # type: ignore[union-attr]


def main(argv: list[str]) -> int:
    if argv[:1] != ["revision"] or len(argv) != 2 or not argv[1].strip():
        print('usage: python -m storage.migrate revision "what changed"', file=sys.stderr)
        return 2
    print(f"wrote {revision(argv[1].strip())}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
