"""Two supervisors pick an agent for the same ticket at the same moment: exactly one assignment wins."""

from __future__ import annotations

import threading

import pytest

from handlers import actions
from handlers.context import Inbound
from handlers.router import Core
from handlers.views import Error
from storage.db import create_all, make_engine
from tests.unit.test_tickets_support import Desk


def race(engine, clock, settings, rounds: int = 3) -> None:
    core = Core(engine, settings, secret=b"race", clock=clock)
    desk = Desk(core, engine)
    for _ in range(rounds):
        code = desk.open()
        tokens = [actions.encode(f"/ticket assign {code} {desk.ids[a]}", scope="c:#service",
                                 secret=core.secret, now=clock()) for a in ("alan", "bea")]
        barrier = threading.Barrier(2)
        results: dict[str, object] = {}

        def click(user: str, token: str, barrier=barrier, results=results) -> None:
            barrier.wait()
            results[user] = core.handle(Inbound(platform="console", user_ref=user, chat_ref="#service",
                                                token=token, scopes=("c:#service",)))

        threads = [threading.Thread(target=click, args=(u, tok)) for u, tok in zip(("sue", "sam"), tokens, strict=True)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=30)
        errors = [u for u, r in results.items() if any(isinstance(v, Error) for v in r.views)]
        assert len(results) == 2 and len(errors) == 1, results
        loser = results[errors[0]]
        tk = desk.ticket(code)
        winner = "alan" if tk.assignee_id == desk.ids["alan"] else "bea"
        assert winner in loser.views[0].text  # the second sees who won
        assert [e.kind for e in desk.events(code)] == ["created", "assigned"]
        edits = [k for k in desk.outbox_keys() if k.startswith(f"ticket:{code}@console#")]
        assert len(edits) == 1


def test_concurrent_assign_sqlite_file(tmp_path, clock, settings):
    engine = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
    create_all(engine)
    try:
        race(engine, clock, settings)
    finally:
        engine.dispose()


@pytest.fixture
def pg_engine(pg_db):
    return pg_db


def test_concurrent_assign_postgres(pg_engine, clock, settings):
    race(pg_engine, clock, settings, rounds=5)


def test_breach_row_insert_reports_a_conflict_postgres(pg_engine, clock, settings):
    """`_insert` tells a new breach row from an existing one on PostgreSQL too (the escalation count and the
    guard against a second notification depend on it)."""
    from handlers.services import sla
    from storage.db import session_scope

    core = Core(pg_engine, settings, secret=b"race", clock=clock)
    desk = Desk(core, pg_engine)
    code = desk.open()
    tid = desk.ticket(code).id
    with session_scope(pg_engine) as s:
        row = {"ticket_id": tid, "kind": "assign", "level": 1, "due_at": clock(), "escalated_at": clock()}
        assert sla._insert(s, **row) is True
        assert sla._insert(s, **row) is False


def close_race(engine, clock, settings, rounds: int = 3) -> None:
    """The customer's Confirm and the agent's Close at the same moment: one close, one rating request."""
    from sqlmodel import select

    from storage.db import session_scope
    from storage.models import Outbox

    core = Core(engine, settings, secret=b"race", clock=clock)
    desk = Desk(core, engine)
    cust = desk.customer()
    for _ in range(rounds):
        code = desk.open()
        desk.assign(code, "alan")
        desk.user("alan").send(f"/ticket resolve {code} renewed the certificate")
        barrier = threading.Barrier(2)
        results: dict[str, object] = {}

        def act(who: str, inbound: Inbound, barrier=barrier, results=results) -> None:
            barrier.wait()
            results[who] = core.handle(inbound)

        ins = {"customer": Inbound(platform="console", user_ref=cust.user, chat_ref=cust.chat,
                                   text=f"/ticket confirm {code}"),
               "alan": Inbound(platform="console", user_ref="alan", chat_ref="@alan", text=f"/ticket close {code}")}
        threads = [threading.Thread(target=act, args=item) for item in ins.items()]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=30)
        assert len(results) == 2
        kinds = [e.kind for e in desk.events(code)]
        assert kinds.count("closed") + kinds.count("confirmed") == 1, kinds
        with session_scope(engine) as s:
            keys = s.scalars(select(Outbox.key).where(Outbox.key.like(f"tk:{code}:rate:%"))).all()
        assert len(keys) == 1, keys


def test_concurrent_close_sqlite_file(tmp_path, clock, settings):
    engine = make_engine(f"sqlite:///{tmp_path / 'close.db'}")
    create_all(engine)
    try:
        close_race(engine, clock, settings)
    finally:
        engine.dispose()


def test_concurrent_close_postgres(pg_engine, clock, settings):
    close_race(pg_engine, clock, settings, rounds=5)


def resolve_race(engine, clock, settings) -> None:
    """The same resolution submitted twice at once (a double click): one resolve, one message to the customer."""
    from sqlmodel import select

    from storage.db import session_scope
    from storage.models import Outbox

    core = Core(engine, settings, secret=b"race", clock=clock)
    desk = Desk(core, engine)
    desk.customer()
    code = desk.open()
    desk.assign(code, "alan")
    barrier = threading.Barrier(2)
    results: list[object] = []

    def act() -> None:
        barrier.wait()
        results.append(core.handle(Inbound(platform="console", user_ref="alan", chat_ref="@alan",
                                           text=f"/ticket resolve {code} renewed the certificate")))

    threads = [threading.Thread(target=act) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    assert len(results) == 2
    assert [e.kind for e in desk.events(code)].count("resolved") == 1
    with session_scope(engine) as s:
        assert len(s.scalars(select(Outbox.key).where(Outbox.key.like(f"tk:{code}:resolved:%"))).all()) == 1


def test_concurrent_resolve_sqlite_file(tmp_path, clock, settings):
    engine = make_engine(f"sqlite:///{tmp_path / 'resolve.db'}")
    create_all(engine)
    try:
        resolve_race(engine, clock, settings)
    finally:
        engine.dispose()


def test_concurrent_resolve_postgres(pg_engine, clock, settings):
    resolve_race(pg_engine, clock, settings)
