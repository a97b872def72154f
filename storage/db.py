"""Engine and unit of work.

`make_engine(url)` builds an engine for SQLite (WAL, foreign keys on, busy timeout; the file private, see
storage/files.py) or PostgreSQL (`postgresql+psycopg://`). Statement parameters (phones, message texts) never
appear in errors or logs (`hide_parameters`), nor do the rows PostgreSQL quotes in its error details.
`session_scope(engine)` commits once at the end of a unit of work (one inbound message, one job) and rolls back on
any exception. Repositories `flush`, they never `commit`. `lock_row` serialises rules that check, then write.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import event, inspect, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine, ExceptionContext, make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from storage.files import private_sqlite

DEFAULT_URL = "sqlite:///./data/crm.db"

log = logging.getLogger("crm.db")


def utcnow() -> datetime:
    """Only for the edges (adapters, the CLI): the core gets `now` passed in."""
    return datetime.now(UTC)


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    try:  # in-memory databases answer "memory" (no error); a file is switched once and stays WAL
        cur.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError as e:  # not WAL yet and another connection is writing: next connect retries
        log.warning("SQLite: WAL not enabled on this connection (%s); it works in rollback-journal mode", e)
    cur.close()


def _sqlite_manual_transactions(dbapi_conn, _record) -> None:  # noqa: ANN001
    dbapi_conn.isolation_level = None  # pysqlite must not emit its own deferred BEGIN


def begin_immediate(conn) -> None:  # noqa: ANN001 - a SQLAlchemy Connection on SQLite
    """Begin the SQLite transaction holding the write lock (the one place that says `BEGIN IMMEDIATE`)."""
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str = DEFAULT_URL, *, echo: bool = False) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        db = u.database or ""
        memory = db in ("", ":memory:") or "mode=memory" in str(u)
        kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 10}}
        if memory:
            kwargs["poolclass"] = StaticPool
        elif not db.startswith("file:"):
            private_sqlite(db)  # 0600 in a 0700 folder when created: it holds contacts and the button key
        engine = create_engine(url, echo=echo, hide_parameters=True, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        if not memory:
            # A deferred SQLite transaction that reads, then writes fails at once ("database is locked") when
            # another connection wrote in between (WAL snapshot), whatever the busy timeout. The adapters, the
            # outbox sender and the scheduler share one file, so every unit of work takes the write lock when
            # it begins: units of work queue (busy_timeout) instead of failing. One instance per SQLite file.
            event.listen(engine, "connect", _sqlite_manual_transactions)
            event.listen(engine, "begin", begin_immediate)
        return engine
    engine = create_engine(url, echo=echo, hide_parameters=True, pool_pre_ping=True, pool_size=10, max_overflow=10)
    event.listen(engine, "handle_error", _drop_row_details)
    return engine


def _drop_row_details(ctx: ExceptionContext) -> None:
    """PostgreSQL's error messages quote the failing row or key ("DETAIL:  Failing row contains (…)", "Key (…)=(…)"):
    personal data that must not reach a log or a traceback. The message keeps its first line; the details stay on
    `orig.diag` for code that needs them."""
    orig = ctx.original_exception
    text = str(orig)
    head, sep, _ = text.partition("\nDETAIL:")
    if not sep:
        return
    orig.args = (head,)
    wrapped = ctx.sqlalchemy_exception
    if wrapped is not None and wrapped.args:
        wrapped.args = (str(wrapped.args[0]).replace(text, head), *wrapped.args[1:])


def create_all(engine: Engine) -> None:
    import storage.models  # noqa: F401 - registers the tables

    SQLModel.metadata.create_all(engine)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SQLITE_BUSY = ("database is locked", "database is busy", "unable to open database file", "disk i/o error")


def unavailable(exc: BaseException) -> bool:
    """The database cannot be reached or is busy right now (refused, dropped, timed out, locked, deadlock):
    "try again shortly", as opposed to a bug (a missing table, a bad statement)."""
    if isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError):  # TimeoutError: the pool's
        return True
    if not isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if type(orig).__module__.startswith("sqlite3"):
        return any(m in str(orig).lower() for m in SQLITE_BUSY)
    state = getattr(orig, "sqlstate", None)  # PostgreSQL: None when there is no server to answer
    return state is None or state.startswith(("08", "53", "57P", "40"))


def insert_ignore(session: Session, model: type, *, conflict: list[str], **values: object) -> bool:
    """INSERT a row of `model` unless one with the same `conflict` columns exists (SQLite and PostgreSQL).

    True when the row was added. Checked with RETURNING, not rowcount: psycopg reports -1 for this statement.
    """
    ins = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    pk = inspect(model).primary_key[0]
    res = session.execute(ins(model).values(**values).on_conflict_do_nothing(index_elements=conflict)
                          .returning(pk))
    return res.first() is not None


def lock_row(session: Session, model: type, id_: object) -> None:
    """Hold the write lock of one row until the unit of work ends, so that a rule that counts or checks, then
    writes, sees what concurrent units of work committed (PostgreSQL `SELECT … FOR UPDATE`; on SQLite every unit
    of work holds the database's write lock from its start, and the dialect leaves `FOR UPDATE` out)."""
    pk = inspect(model).primary_key[0]
    session.execute(select(pk).where(pk == id_).with_for_update())


def lock_rows(session: Session, model: type, ids: list) -> None:
    """`lock_row` for a batch of rows, in one statement (in id order, as every batch locks them)."""
    pk = inspect(model).primary_key[0]
    session.execute(select(pk).where(pk.in_(sorted(ids))).order_by(pk).with_for_update())
