"""Engine and unit of work.

`make_engine(url)` builds an engine for SQLite (WAL, foreign keys on, busy timeout; the file private, see
storage/files.py) or PostgreSQL (`postgresql+psycopg://`). Statement parameters (phones, message texts) never
appear in errors or logs (`hide_parameters`), nor do the rows PostgreSQL quotes in its error details.
`session_scope(engine)` commits once at the end of a unit of work (one inbound message, one job) and rolls back on
any exception. Repositories `flush`, they never `commit`. `lock_row` serialises rules that check, then write.

SQLite has one writer at a time. Instead of letting SQLite's busy handler make threads sleep and retry (p99 of
hundreds of ms at 5 threads), the writers of one process queue in a fair in-process FIFO (`WriterQueue`), taken
before `BEGIN IMMEDIATE`, so SQLite never has to make our own threads wait. A unit of work is either:
- a write unit (`session_scope(engine)`, the default): it takes the queue, then `BEGIN IMMEDIATE`;
- a read unit (`session_scope(engine, write=False)`): a deferred transaction, which in WAL mode never waits.
  Should it write after all, it joins the queue at its first write statement. SQLite refuses that write when
  another connection committed after the unit's first read (SQLITE_BUSY_SNAPSHOT): `retry_as_write(exc)` says
  so, and the caller runs the whole unit again as a write unit (`run_unit`). The refused attempt committed
  nothing, so the unit still acts once.
The lock is held per transaction: a session that commits several times (a job committing per item) queues again
for each. On PostgreSQL (row locks) and in-memory SQLite (tests: one connection) units are only labels.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import any_, bindparam, event, inspect, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine, ExceptionContext, make_url
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel, create_engine

from storage.files import private_sqlite

DEFAULT_URL = "sqlite:///./data/crm.db"

log = logging.getLogger("crm.db")

T = TypeVar("T")
WRITER_WAIT = 10.0  # seconds a unit of work waits for the writer queue (as SQLite's busy timeout did)


def utcnow() -> datetime:
    """Only for the edges (adapters, the CLI): the core gets `now` passed in."""
    return datetime.now(UTC)


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


SYNC_MODES = ("FULL", "NORMAL")


def sqlite_synchronous() -> str:
    """`CRM_SQLITE_SYNCHRONOUS`: FULL (default) syncs the WAL to disk at every commit (~6 ms here, while the unit
    of work still holds the writer lock); NORMAL syncs at checkpoints only — never corrupt, durable across a
    crash of the bot, but the last commits may roll back after a power loss or an OS crash."""
    mode = os.environ.get("CRM_SQLITE_SYNCHRONOUS", "FULL").strip().upper() or "FULL"
    if mode not in SYNC_MODES:
        raise ValueError(f"CRM_SQLITE_SYNCHRONOUS must be one of {', '.join(SYNC_MODES)}, not {mode!r}")
    return mode


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute(f"PRAGMA synchronous={sqlite_synchronous()}")
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


# ---------------------------------------------------------------- the writer queue


class WriterBusy(sa_exc.OperationalError):
    """The writer queue did not come round within `WRITER_WAIT` ("busy, try again shortly", see `unavailable`)."""


class WriterQueue:
    """One writer at a time per SQLite file and process, served in arrival order (FIFO hand-over: a waiting
    chat command is not overtaken by a job that asks again and again). `urgent` waiters — the few short units
    that keep the service alive: the scheduler lease, the outbox sender's claims — queue ahead of the others
    (in arrival order among themselves)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._queue: deque[list] = deque()  # waiters: [event, thread id, urgent]
        self._owner: int | None = None  # thread id of the holder

    def acquire(self, timeout: float = WRITER_WAIT, *, urgent: bool = False) -> None:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                raise RuntimeError("this thread already holds the writer lock: a write unit of work inside another")
            if self._owner is None and not self._queue:
                self._owner = me
                return
            waiter = [threading.Event(), me, urgent]
            if urgent:  # behind the urgent ones already waiting, ahead of everybody else
                self._queue.insert(sum(1 for w in self._queue if w[2]), waiter)
            else:
                self._queue.append(waiter)
        if waiter[0].wait(timeout):
            return
        with self._mutex:
            if waiter in self._queue:  # still waiting: give up our place
                self._queue.remove(waiter)
                raise WriterBusy("BEGIN", None, sqlite3.OperationalError(
                    f"database is locked (waited {timeout:g} s for the writer queue)"))
        # handed over just as the wait timed out: we hold it

    def release(self) -> None:
        with self._mutex:
            if self._queue:
                waiter = self._queue.popleft()
                self._owner = waiter[1]
                waiter[0].set()
            else:
                self._owner = None

    def waiting(self) -> int:
        """How many units of work are queued behind the holder."""
        with self._mutex:
            return len(self._queue)

    def held(self) -> bool:
        with self._mutex:
            return self._owner is not None


_QUEUES: dict[str, WriterQueue] = {}
_QUEUES_LOCK = threading.Lock()


def writer_queue(engine: Engine) -> WriterQueue | None:
    """The writer queue of `engine`'s SQLite file (one per file and process, shared by every engine on it);
    None for PostgreSQL and in-memory SQLite."""
    u = engine.url
    db = u.database or ""
    if u.get_backend_name() != "sqlite" or db in ("", ":memory:") or "mode=memory" in str(u):
        return None
    key = os.path.realpath(db) if not db.startswith("file:") else db
    with _QUEUES_LOCK:
        return _QUEUES.setdefault(key, WriterQueue())


@dataclass(eq=False)
class Unit:
    """How a session's transactions begin: `write` ones hold the writer queue from BEGIN IMMEDIATE to their end;
    read ones begin deferred and join the queue at their first write statement (`wrote` then says so)."""

    queue: WriterQueue | None
    write: bool
    urgent: bool = False  # queues ahead of the others (see WriterQueue)
    held: bool = False
    wrote: bool = False

    def hold(self) -> None:
        if self.queue is not None and not self.held:
            self.queue.acquire(urgent=self.urgent)
            self.held = True

    def let_go(self) -> None:
        if self.held:
            self.held = False
            self.queue.release()


UNIT = "crm_unit"  # the connection's execution option (and session.info key) carrying its Unit

_READS = ("SELECT", "PRAGMA", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "EXPLAIN", "VALUES")
_WRITE_WORDS = (" INSERT ", " UPDATE ", " DELETE ", " REPLACE ")


def is_write(statement: str) -> bool:
    head = statement.lstrip()[:9].upper()
    if head.startswith(_READS):
        return False
    if head.startswith("WITH"):  # a CTE: a write only when it ends in one
        flat = " " + " ".join(statement.upper().split()) + " "
        return any(w in flat for w in _WRITE_WORDS)
    return True


def _unit_of_conn(conn) -> Unit | None:  # noqa: ANN001 - a SQLAlchemy Connection
    return conn.get_execution_options().get(UNIT)


def _begin(conn) -> None:  # noqa: ANN001 - a SQLAlchemy Connection on a SQLite file
    unit = _unit_of_conn(conn)
    if unit is None:  # outside a unit of work (migrations, start-up checks): as before, SQLite's own lock
        begin_immediate(conn)
    elif unit.write:
        unit.hold()
        try:
            begin_immediate(conn)
        except BaseException:
            unit.let_go()
            raise
    else:
        conn.exec_driver_sql("BEGIN")  # deferred: a WAL reader never waits


def _before_execute(conn, _cursor, statement, _params, _context, _executemany) -> None:  # noqa: ANN001
    unit = _unit_of_conn(conn)
    if unit is not None and not unit.write and is_write(statement):
        unit.wrote = True
        unit.hold()  # a read unit's first write: queue as the writers do (SQLite may still refuse it, see above)


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
        sqlite_synchronous()  # a bad setting fails here, at start, not at the first connection
        engine = create_engine(url, echo=echo, hide_parameters=True, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        if not memory:
            # Transactions begin as their unit of work says (see the module's docstring): write units queue in
            # the process's WriterQueue, then BEGIN IMMEDIATE; read units begin deferred. One instance per file.
            event.listen(engine, "connect", _sqlite_manual_transactions)
            event.listen(engine, "begin", _begin)
            event.listen(engine, "before_cursor_execute", _before_execute)
        else:
            event.listen(engine, "before_cursor_execute", _note_write)
        return engine
    engine = create_engine(url, echo=echo, hide_parameters=True, pool_pre_ping=True, pool_size=10, max_overflow=10)
    event.listen(engine, "handle_error", _drop_row_details)
    event.listen(engine, "before_cursor_execute", _note_write)
    return engine


def _note_write(conn, _cursor, statement, _params, _context, _executemany) -> None:  # noqa: ANN001
    """PostgreSQL and in-memory SQLite: only note that a read unit wrote (the router de-duplicates it then)."""
    unit = _unit_of_conn(conn)
    if unit is not None and not unit.wrote and is_write(statement):
        unit.wrote = True


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


class UnitSession(Session):
    """A session of a unit of work: its `Unit` (in `info`) says how its transactions begin."""


def new_session(engine: Engine, *, write: bool = True, urgent: bool = False) -> Session:
    """A session whose transactions are write or read units (see the module's docstring); `unit_of` tells."""
    unit = Unit(writer_queue(engine), write, urgent)
    session = UnitSession(engine, expire_on_commit=False, execution_options={UNIT: unit})
    session.info[UNIT] = unit
    return session


@event.listens_for(UnitSession, "after_transaction_end")
def _transaction_ended(session: Session, transaction) -> None:  # noqa: ANN001 - a SessionTransaction
    if transaction.parent is None:  # the database transaction committed or rolled back: the next one queues anew
        unit = unit_of(session)
        if unit is not None:
            unit.let_go()


def unit_of(session: Session) -> Unit | None:
    return session.info.get(UNIT)


@contextmanager
def session_scope(engine: Engine, *, write: bool = True, urgent: bool = False) -> Iterator[Session]:
    """One unit of work, committed at the end. `write=False`: it only reads (lists, reports, search, who is
    asking); a read unit that writes after all may fail with `retry_as_write` (use `run_unit` to retry it).
    `urgent`: a short unit that keeps the service alive (the lease, the sender's claims) queues first."""
    session = new_session(engine, write=write, urgent=urgent)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        unit_of(session).let_go()


def retry_as_write(exc: BaseException) -> bool:
    """SQLite refused a read unit's first write: another connection committed since its first read
    (SQLITE_BUSY_SNAPSHOT), or another process holds the write lock (SQLITE_BUSY, no busy wait on an upgrade).
    Nothing was written: the whole unit may run again as a write unit."""
    orig = getattr(exc, "orig", None)
    return isinstance(exc, sa_exc.OperationalError) and getattr(orig, "sqlite_errorcode", None) in (5, 517)


def run_unit(engine: Engine, work: Callable[[Session], T], *, write: bool = False) -> T:
    """`work(session)` in one unit of work; a read unit SQLite refused to upgrade runs again once as a write unit.
    `work` must have no effect outside the database (it may run twice; only one run commits)."""
    if not write:
        try:
            with session_scope(engine, write=False) as s:
                return work(s)
        except sa_exc.OperationalError as e:
            if not retry_as_write(e):
                raise
    with session_scope(engine) as s:
        return work(s)


@contextmanager
def write_batch(session: Session) -> Iterator[None]:
    """A batch of a job's writes. In a read unit of work: a transaction of its own, holding the writer queue
    from its start and committed at the end (the read transaction still open is committed first). In a write
    unit, or a session outside any unit: part of that session's transaction."""
    unit = unit_of(session)
    if unit is None or unit.write:
        yield
        return
    if session.in_transaction():
        session.commit()
    unit.write = True
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        unit.write = False


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A unit of work that only reads (health checks, metrics) and is never committed: a read unit, so on a SQLite
    file it reads a snapshot at once even while a long job holds the writer queue."""
    session = new_session(engine, write=False)
    try:
        yield session
    finally:
        session.close()  # ends the transaction unwritten; what was read stays readable
        unit_of(session).let_go()


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


def among(session: Session, column: ColumnElement, values: Iterable[object]) -> ColumnElement[bool]:
    """`column IN values`. On PostgreSQL `column = ANY(:array)`: one parameter however many values, where an IN
    list is a parameter each that SQLAlchemy and psycopg write into the statement's text anew on every run (the
    digest names its 2,000 reps in three statements: ~20 ms of client CPU each)."""
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def insert_ignore(session: Session, model: type, *, conflict: list[str], **values: object) -> bool:
    """INSERT a row of `model` unless one with the same `conflict` columns exists (SQLite and PostgreSQL).

    True when the row was added. Checked with RETURNING, not rowcount: psycopg reports -1 for this statement.
    """
    ins = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    pk = inspect(model).primary_key[0]
    res = session.execute(ins(model).values(**values).on_conflict_do_nothing(index_elements=conflict)
                          .returning(pk))
    return res.first() is not None


def insert_ignore_many(session: Session, model: type, *, conflict: list[str], rows: list[dict],
                       returning: str) -> set:
    """`insert_ignore` for many rows in one statement (all with the same columns): the `returning` column's
    values of the rows that were added (a row whose `conflict` columns exist already is skipped)."""
    if not rows:
        return set()
    ins = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    col = getattr(model, returning)
    stmt = ins(model.__table__).on_conflict_do_nothing(index_elements=conflict).returning(col)
    return {r[0] for r in session.connection().execute(stmt, rows)}  # multi-row VALUES ("insertmanyvalues")


def lock_row(session: Session, model: type, id_: object) -> None:
    """Hold the write lock of one row until the unit of work ends, so that a rule that counts or checks, then
    writes, sees what concurrent units of work committed (PostgreSQL `SELECT … FOR UPDATE`, once per row and
    transaction). On SQLite the database's write lock is the row lock: a write unit holds it from its start, a
    read unit joins the writer queue here (its first write fails with `retry_as_write` if its reads are
    stale); no statement is needed."""
    unit = unit_of(session)
    if unit is not None and not unit.write:
        unit.hold()
    if session.get_bind().dialect.name == "sqlite":
        return
    locked = session.info.get(_LOCKED)
    if locked is not None and locked[0] is _innermost(session) and (model, id_) in locked[1]:
        return
    pk = inspect(model).primary_key[0]
    session.execute(select(pk).where(pk == id_).with_for_update())
    tx = _innermost(session)  # a savepoint rolled back releases the locks taken in it: remembered per savepoint
    if locked is None or locked[0] is not tx:
        locked = session.info[_LOCKED] = (tx, set())
    locked[1].add((model, id_))


def _innermost(session: Session) -> object:
    return session.get_nested_transaction() or session.get_transaction()


_LOCKED = "crm_locked_rows"  # session.info: (the transaction, the rows lock_row locked in it)


def lock_rows(session: Session, model: type, ids: list) -> None:
    """`lock_row` for a batch of rows, in one statement (in id order, as every batch locks them)."""
    pk = inspect(model).primary_key[0]
    session.execute(select(pk).where(pk.in_(sorted(ids))).order_by(pk).with_for_update())
