"""Two reps claim the same pool customer at the same moment on PostgreSQL: exactly one wins."""

import threading

from sqlalchemy import select

from bot.console.driver import ConsoleSession
from handlers.router import Core
from storage.db import session_scope
from storage.models import AuditLog, Customer, Staff
from tests import factories as f
from tests.conftest import Clock


def test_ownership_concurrent_claims_one_wins_on_postgresql(pg_db, settings):
    engine = pg_db
    with session_scope(engine) as s:
        reps = [f.staff(s, name=f"rep{i}") for i in range(6)]
        f.customer(s, name="Contested Ltd", owner=None)
    core = Core(engine, settings, secret=b"pg", clock=Clock())
    barrier = threading.Barrier(len(reps))
    outs: dict[str, str] = {}

    def claim(name: str) -> None:
        chat = ConsoleSession(core, user=name)
        barrier.wait()
        outs[name] = chat.send("/claim ABC2026001")

    threads = [threading.Thread(target=claim, args=(r.name,)) for r in reps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [n for n, out in outs.items() if "⚠" not in out]
    assert len(winners) == 1, outs
    with session_scope(engine) as s:
        c = s.scalar(select(Customer))
        assert s.get(Staff, c.owner_id).name == winners[0]
        assert len(list(s.scalars(select(AuditLog).where(AuditLog.action == "claim")))) == 1
