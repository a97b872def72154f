"""A won opportunity's Record-the-purchase button pressed at the same moment from four chats on PostgreSQL:
one purchase, every press answered without an error."""

import threading

from sqlalchemy import func, select

from bot.console.driver import ConsoleSession
from handlers.i18n import t
from handlers.router import Core
from storage.db import session_scope
from storage.models import Purchase
from tests import factories as f
from tests.conftest import Clock


def test_won_purchase_pressed_concurrently_records_once_on_postgresql(pg_db, settings):
    engine = pg_db
    with session_scope(engine) as s:
        alice = f.staff(s, name="alice")
        f.customer(s, name="Won Co", owner=alice, grade="C")
    core = Core(engine, settings, secret=b"pg", clock=Clock())
    a = ConsoleSession(core, user="alice")
    a.send("/opp add ABC2026001 ERP amount=700000 close=2026-12-31")
    a.send("/opp stage ABC2026001OP01 won amount=670000 contract=HT-9 signed")
    chats = [ConsoleSession(core, user="alice") for _ in range(4)]
    for c in chats:
        c.last, c.last_scope = a.last, a.last_scope
    barrier = threading.Barrier(len(chats))
    outs: list[str] = []

    def press(c: ConsoleSession) -> None:
        barrier.wait()
        outs.append(c.press_cmd("/opp purchase"))

    threads = [threading.Thread(target=press, args=(c,)) for c in chats]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(outs) == 4 and not any("⚠" in o for o in outs), outs
    assert sum(t("en", "opp.purchase_already", code="ABC2026001OP01") in o for o in outs) == 3
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Purchase)) == 1
