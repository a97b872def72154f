"""SQLite's writer queue (storage/db.py): reads never wait, writers take turns in arrival order, a read unit that
writes after all runs again as a write unit, and jobs commit as they go — each action still happens once.

These run on a SQLite FILE (the in-memory test database is one connection that threads would share)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text

from bot.demo_data import generate
from handlers.commands import registry
from handlers.context import Inbound
from handlers.router import Core
from handlers.services import pool
from handlers.views import Error, Reply, Text
from scheduler import jobs as jobs_pkg
from scheduler.jobs import digest as digest_job
from scheduler.runner import run_job
from storage import db
from storage.db import WriterBusy, WriterQueue, is_write, make_engine, run_unit, session_scope, unit_of
from storage.db import writer_queue as queue_of
from storage.models import AuditLog, Customer, FollowUp, JobRun, Outbox, Staff
from tests import factories
from tests.conftest import NOW


@pytest.fixture
def file_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'crm.db'}")
    db.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def demo(file_engine, clock, settings):
    with session_scope(file_engine) as s:
        generate(s, now=clock(), settings=settings)
    return Core(file_engine, settings, secret=b"lock", clock=clock)


def reps_and_codes(engine, n: int) -> list[tuple[str, str]]:
    """(name, a customer code they own) of `n` active reps."""
    with session_scope(engine, write=False) as s:
        rows = s.execute(select(Staff.name, func.min(Customer.code)).join(Customer, Customer.owner_id == Staff.id)
                         .where(Staff.role == "rep", Staff.active.is_(True)).group_by(Staff.id).order_by(Staff.id)
                         .limit(n)).all()
    assert len(rows) == n
    return [(name, code) for name, code in rows]


def say(core: Core, user: str, line: str, key: str | None = None) -> Reply:
    return core.handle(Inbound(platform="console", user_ref=user, chat_ref=f"@{user}", text=line, update_key=key))


def errors(reply: Reply) -> list[str]:
    return [v.text for v in reply.views if isinstance(v, Error)]


# ---------------------------------------------------------------- the queue itself


def test_writers_are_served_in_arrival_order():
    q = WriterQueue()
    q.acquire()
    order: list[int] = []

    def writer(i: int) -> None:
        q.acquire()
        order.append(i)
        q.release()

    threads = []
    for i in range(5):
        th = threading.Thread(target=writer, args=(i,))
        th.start()
        threads.append(th)
        while q.waiting() < i + 1:  # each has queued before the next arrives
            threading.Event().wait(0.001)
    q.release()
    for th in threads:
        th.join(timeout=10)
    assert order == [0, 1, 2, 3, 4]
    assert not q.held()


def test_a_second_write_unit_inside_one_fails_at_once():
    q = WriterQueue()
    q.acquire()
    with pytest.raises(RuntimeError, match="already holds"):
        q.acquire()
    q.release()


def test_a_writer_that_waits_too_long_is_told_busy_and_leaves_the_queue():
    q = WriterQueue()
    q.acquire()
    got: list[BaseException] = []
    th = threading.Thread(target=lambda: _catch(got, lambda: q.acquire(timeout=0.05)))
    th.start()
    th.join(timeout=10)
    assert len(got) == 1 and isinstance(got[0], WriterBusy) and db.unavailable(got[0])  # "busy, try again shortly"
    assert q.waiting() == 0
    q.release()
    q.acquire(timeout=1)  # the queue still works
    q.release()


def _catch(out: list[BaseException], fn) -> None:  # noqa: ANN001
    try:
        fn()
    except BaseException as e:  # noqa: BLE001
        out.append(e)


def test_statements_that_write():
    assert is_write("INSERT INTO t VALUES (1)") and is_write("  update t set x=1") and is_write("DELETE FROM t")
    assert is_write("WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a")
    assert not is_write("SELECT 1") and not is_write("WITH a AS (SELECT 1) SELECT * FROM a")
    assert not is_write("SAVEPOINT sa_1") and not is_write("RELEASE SAVEPOINT sa_1") and not is_write("PRAGMA x")


def test_one_queue_per_file_none_in_memory(file_engine, tmp_path):
    other = make_engine(f"sqlite:///{tmp_path / 'crm.db'}")
    try:
        assert queue_of(other) is queue_of(file_engine) is not None
    finally:
        other.dispose()
    assert queue_of(make_engine("sqlite://")) is None


# ---------------------------------------------------------------- read and write units


def test_a_read_command_does_not_wait_for_a_writer(demo, file_engine):
    (rep, code), = reps_and_codes(file_engine, 1)
    inside, done = threading.Event(), threading.Event()

    def hold() -> None:
        with session_scope(file_engine) as s:
            s.execute(text("SELECT 1"))
            inside.set()
            done.wait(30)

    th = threading.Thread(target=hold)
    th.start()
    try:
        assert inside.wait(10)
        card = say(demo, rep, f"/customer {code}")  # a read unit: answered while the writer holds the lock
        assert queue_of(file_engine).held()
    finally:
        done.set()
        th.join(timeout=10)
    assert not errors(card) and code in str(card.views)


def _commit_elsewhere(engine, marker: str) -> None:
    """Another connection commits (in another thread): any read transaction open now is stale."""
    def write() -> None:
        with session_scope(engine) as s:
            s.add(AuditLog(at=NOW, action="probe", entity="probe", entity_id=0, new=marker))
    th = threading.Thread(target=write)
    th.start()
    th.join(timeout=10)


def test_a_read_unit_that_writes_after_a_commit_runs_again_as_a_write_unit_once(file_engine):
    attempts: list[bool] = []

    def work(s) -> int:  # noqa: ANN001
        attempts.append(unit_of(s).write)
        n = s.scalar(select(func.count()).select_from(AuditLog))  # the read: a snapshot
        if len(attempts) == 1:
            _commit_elsewhere(file_engine, "other")
        s.add(AuditLog(at=NOW, action="probe", entity="probe", entity_id=1, new="mine"))
        s.flush()
        return n

    assert run_unit(file_engine, work) == 1  # the second attempt saw the other commit
    assert attempts == [False, True]
    with session_scope(file_engine, write=False) as s:
        assert s.scalar(select(func.count()).where(AuditLog.new == "mine")) == 1
    assert not queue_of(file_engine).held()


def test_a_read_only_command_that_writes_is_retried_and_acts_once(demo, file_engine):
    """A verb marked `reads` that writes after a concurrent commit: SQLite refuses, the router runs it again
    as a write unit, and the delivery is recorded so that a redelivery does nothing."""
    calls: list[bool] = []

    def probe(ctx, args: str) -> Reply:  # noqa: ANN001
        calls.append(unit_of(ctx.session).write)
        ctx.session.scalar(select(func.count()).select_from(Customer))
        if len(calls) == 1:
            _commit_elsewhere(file_engine, "other")
        ctx.session.add(AuditLog(at=ctx.now, action="probe", entity="probe", entity_id=2, new=args))
        ctx.session.flush()
        return Reply(views=(Text("ok"),))

    registry.command("zzprobe", reads=True)(probe)
    try:
        (rep, _), = reps_and_codes(file_engine, 1)
        first = say(demo, rep, "/zzprobe once", key="probe-1")
        again = say(demo, rep, "/zzprobe once", key="probe-1")
    finally:
        del registry.COMMANDS["zzprobe"]
    assert not errors(first) and calls == [False, True, False]
    assert again.repeat
    with session_scope(file_engine, write=False) as s:
        assert s.scalar(select(func.count()).where(AuditLog.new == "once")) == 1


# ---------------------------------------------------------------- jobs beside chat


def test_threads_log_calls_while_jobs_run(demo, file_engine, clock, settings):
    """Four reps log calls while the digest and pool_return run again and again: no command fails, each call
    is logged once, every job run succeeds."""
    log_beside_jobs(demo, file_engine, clock, settings)


def test_threads_log_calls_while_jobs_run_postgres(pg_db, clock, settings):
    """The same on PostgreSQL, where jobs in read units commit item by item and rows are locked instead."""
    with session_scope(pg_db) as s:
        generate(s, now=clock(), settings=settings)
    log_beside_jobs(Core(pg_db, settings, secret=b"lock", clock=clock), pg_db, clock, settings)


def log_beside_jobs(demo: Core, file_engine, clock, settings) -> None:  # noqa: ANN001
    clock.now = clock.now.replace(hour=12)  # past everyone's reminder time: the digest has work
    people = reps_and_codes(file_engine, 4)
    per = 12
    replies: list[Reply] = []
    reads: list[Reply] = []

    def rep(i: int, name: str, code: str) -> None:
        for j in range(per):
            replies.append(say(demo, name, f"/log {code} phone: lockcall {i}-{j} next: in 3 days", key=f"k{i}-{j}"))
            if j % 3 == 0:  # reads in between: read units beside the writers
                reads.append(say(demo, name, "/followups" if j % 2 else f"/customer {code}", key=f"r{i}-{j}"))

    threads = [threading.Thread(target=rep, args=(i, n, c)) for i, (n, c) in enumerate(people)]
    for th in threads:
        th.start()
    runs = 0
    while any(th.is_alive() for th in threads) or runs < 2:
        for job in ("followup_digest", "pool_return", "first_contact"):
            run_job(file_engine, job, now=clock(), settings=settings, channels={})
        with session_scope(file_engine) as s:
            s.execute(delete(Outbox).where(Outbox.key.like("digest:%")))  # the next round digests everyone again
        runs += 1
    for th in threads:
        th.join(timeout=60)
    assert len(replies) == 4 * per
    assert [errors(r) for r in replies + reads if errors(r)] == []
    assert len(reads) == 4 * len(range(0, per, 3)) and all(r.views for r in reads)
    assert not any(r.repeat for r in replies)
    with session_scope(file_engine, write=False) as s:
        logged = list(s.scalars(select(FollowUp.content).where(FollowUp.content.like("lockcall %"))))
        failures = list(s.scalars(select(JobRun.error).where(JobRun.error.is_not(None))))
    assert sorted(logged) == sorted(f"lockcall {i}-{j}" for i in range(4) for j in range(per))
    assert failures == []
    assert say(demo, people[0][0], f"/log {people[0][1]} phone: lockcall 0-0", key="k0-0").repeat  # redelivered


class Crash(BaseException):
    """The process dies mid-run (not an item's error, which `each` records and moves past)."""


def test_pool_return_cut_short_and_run_again_returns_and_tells_each_customer_once(demo, file_engine, settings,
                                                                                   monkeypatch):
    later = demo.clock() + timedelta(days=settings.pool_return_days + 400)  # everyone owned is stale by then
    with session_scope(file_engine, write=False) as s:
        owned = dict(s.execute(select(Customer.id, Customer.code).where(Customer.owner_id.is_not(None))).all())
    assert len(owned) > 10
    monkeypatch.setattr(pool, "POOL_BATCH", 3)
    real, calls = pool.move_owed, []

    def dying(*a, **kw):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        if len(calls) == 8:  # in the third batch
            raise Crash
        return real(*a, **kw)

    monkeypatch.setattr(pool, "move_owed", dying)
    with pytest.raises(Crash):
        run_job(file_engine, "pool_return", now=later, settings=settings, channels={})
    mine = (AuditLog.action == "pool_return") & (AuditLog.entity == "customer") & (AuditLog.at == later)
    with session_scope(file_engine, write=False) as s:
        kept = s.scalar(select(func.count()).where(mine))
    assert 0 < kept < 7  # the batches before the crash were committed, the one it hit was not
    monkeypatch.setattr(pool, "move_owed", real)
    assert run_job(file_engine, "pool_return", now=later, settings=settings, channels={}) == len(owned) - kept
    with session_scope(file_engine, write=False) as s:
        returned = list(s.scalars(select(AuditLog.entity_id).where(mine)))
        messages = [o.payload for o in s.scalars(select(Outbox).where(Outbox.key.like("pool:%")))]
        assert s.scalar(select(func.count()).where(Customer.owner_id.is_not(None))) == 0
    assert sorted(returned) == sorted(owned)  # each customer returned once
    for code in owned.values():  # and named in exactly one message to its owner
        assert sum(code in p for p in messages) == 1, code


def test_digest_cut_short_and_run_again_sends_each_digest_once(demo, file_engine, clock, settings, monkeypatch):
    now = clock.now.replace(hour=12)
    monkeypatch.setattr(jobs_pkg, "BATCH_SECONDS", 0.0)  # commit after every rep
    real, calls = digest_job._digest_one, []

    def dying(*a, **kw):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        if len(calls) == 3:
            raise Crash
        return real(*a, **kw)

    monkeypatch.setattr(digest_job, "_digest_one", dying)
    with pytest.raises(Crash):
        run_job(file_engine, "followup_digest", now=now, settings=settings, channels={})
    with session_scope(file_engine, write=False) as s:
        assert s.scalar(select(func.count()).where(Outbox.key.like("digest:%"))) == 2
    monkeypatch.setattr(digest_job, "_digest_one", real)
    run_job(file_engine, "followup_digest", now=now, settings=settings, channels={})
    with session_scope(file_engine, write=False) as s:
        keys = list(s.scalars(select(Outbox.key).where(Outbox.key.like("digest:%"))))
        staff = s.scalar(select(func.count()).where(Staff.active.is_(True)))
    assert len(keys) == len(set(keys)) == staff


def test_urgent_writers_go_ahead_of_the_others_in_arrival_order():
    """The lease renewal and the sender's claims queue ahead of chat and jobs (first come first served among
    themselves), so a busy bot neither loses its scheduler lease nor holds its notifications back."""
    q = WriterQueue()
    q.acquire()
    order: list[str] = []

    def writer(name: str, urgent: bool) -> None:
        q.acquire(urgent=urgent)
        order.append(name)
        q.release()

    threads = []
    for i, (name, urgent) in enumerate((("chat1", False), ("lease", True), ("chat2", False), ("claim", True))):
        th = threading.Thread(target=writer, args=(name, urgent))
        th.start()
        threads.append(th)
        while q.waiting() < i + 1:
            threading.Event().wait(0.001)
    q.release()
    for th in threads:
        th.join(timeout=10)
    assert order == ["lease", "claim", "chat1", "chat2"]


def test_sqlite_synchronous_setting(tmp_path, monkeypatch):
    def mode(engine) -> int:  # noqa: ANN001
        with engine.connect() as c:
            return c.exec_driver_sql("PRAGMA synchronous").scalar()

    e = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    assert mode(e) == 2  # FULL by default
    e.dispose()
    monkeypatch.setenv("CRM_SQLITE_SYNCHRONOUS", "normal")
    e = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    assert mode(e) == 1
    e.dispose()
    monkeypatch.setenv("CRM_SQLITE_SYNCHRONOUS", "off")
    with pytest.raises(ValueError, match="FULL, NORMAL"):
        make_engine(f"sqlite:///{tmp_path / 'c.db'}")


def _locked_elsewhere(engine, customer_id: int) -> bool:
    """Is the customer's row locked by another transaction (PostgreSQL `FOR UPDATE NOWAIT` refuses)?"""
    with engine.connect() as c:
        try:
            c.execute(text("SELECT id FROM customer WHERE id = :i FOR UPDATE NOWAIT"), {"i": customer_id})
            return False
        except Exception as e:  # noqa: BLE001 - psycopg's LockNotAvailable, wrapped by SQLAlchemy
            assert "could not obtain lock" in str(e)
            return True


def _a_customer(engine) -> int:
    with session_scope(engine) as s:
        return factories.customer(s, name="Acme", owner=factories.staff(s, name="Lee")).id


def test_lock_row_locks_once_per_transaction_and_again_after_a_savepoint_rolled_back(pg_db):
    cid = _a_customer(pg_db)
    statements: list[str] = []
    db.event.listen(pg_db, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with session_scope(pg_db) as s:
        db.lock_row(s, Customer, cid)
        db.lock_row(s, Customer, cid)  # held already: no second statement
        assert sum("FOR UPDATE" in st for st in statements) == 1 and _locked_elsewhere(pg_db, cid)
    assert not _locked_elsewhere(pg_db, cid)
    with session_scope(pg_db) as s:
        s.execute(select(Customer.id)).all()
        nested = s.begin_nested()
        db.lock_row(s, Customer, cid)
        nested.rollback()  # PostgreSQL releases the lock taken inside the savepoint
        assert not _locked_elsewhere(pg_db, cid)
        db.lock_row(s, Customer, cid)  # so it is taken again
        assert _locked_elsewhere(pg_db, cid)


def test_lock_row_on_sqlite_queues_a_read_unit_without_a_statement(file_engine):
    cid = _a_customer(file_engine)
    statements: list[str] = []
    db.event.listen(file_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with session_scope(file_engine, write=False) as s:
        assert not unit_of(s).held
        db.lock_row(s, Customer, cid)
        assert unit_of(s).held and queue_of(file_engine).held()  # the writer lock is the row lock
    assert not queue_of(file_engine).held() and statements == []
