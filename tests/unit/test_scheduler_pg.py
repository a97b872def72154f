"""Several instances on the real PostgreSQL: one scheduler leader, senders that never send a row twice."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlmodel import SQLModel

from bot.app import App
from bot.config import Config
from bot.outbox import Sender
from bot.services import start_background
from handlers import notify
from handlers.router import Core
from handlers.views import Reply, Text
from scheduler import leader
from storage import outbox
from storage.db import create_all, make_engine, session_scope, utcnow
from storage.models import FollowUp, Outbox
from tests import factories as f


@pytest.fixture
def pg(pg_url):
    engine = make_engine(pg_url)
    create_all(engine)
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as c:
        c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield engine
    engine.dispose()


class Recorder:
    """A fake transport shared by several senders: records every delivery, thread-safe."""

    platform = "console"

    def __init__(self, log: list, lock: threading.Lock, name: str) -> None:
        self.log, self.lock, self.name = log, lock, name

    def send(self, chat_ref, reply, *, scope):
        time.sleep(0.005)  # a little latency so that claims overlap
        with self.lock:
            self.log.append((chat_ref, reply.text or reply.views[0].text, self.name))
            return f"{self.name}{len(self.log)}"

    def edit(self, chat_ref, message_ref, reply, *, scope):
        pass


def add_rows(engine, n: int) -> None:
    with session_scope(engine) as s:
        for i in range(n):
            notify.to_chat(s, platform="console", chat_ref=f"@u{i % 7}", key=f"bulk:{i}",
                           reply=Reply(views=(Text(f"bulk {i}"),)), now=utcnow() - timedelta(seconds=1))


def test_pg_claims_skip_locked_rows(pg):
    add_rows(pg, 5)
    with session_scope(pg) as s1:
        first = outbox.claim(s1, worker="w1", now=utcnow(), limit=3)
        with session_scope(pg) as s2:  # while w1's transaction still holds its rows
            second = outbox.claim(s2, worker="w2", now=utcnow(), limit=10)
        assert {r.id for r in first}.isdisjoint({r.id for r in second})
        assert len(first) == 3 and len(second) == 2


def test_pg_two_senders_send_each_row_once(pg):
    add_rows(pg, 120)
    log, lock = [], threading.Lock()
    engines = [make_engine(str(pg.url.render_as_string(hide_password=False))) for _ in range(2)]
    senders = [Sender(e, {"console": Recorder(log, lock, f"s{i}")}, worker=f"s{i}", batch=5)
               for i, e in enumerate(engines)]
    threads = [threading.Thread(target=s.drain, kwargs={"max_rounds": 1000}) for s in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for e in engines:
        e.dispose()
    counts = Counter(text for _, text, _ in log)
    assert len(counts) == 120 and set(counts.values()) == {1}
    assert len({who for *_, who in log}) == 2  # both really took part
    with session_scope(pg) as s:
        assert set(s.scalars(select(Outbox.status))) == {"sent"}


def test_pg_lease_contention_one_winner(pg):
    leases = [leader.Lease(make_engine(str(pg.url.render_as_string(hide_password=False))), holder=f"h{i}")
              for i in range(6)]
    barrier = threading.Barrier(len(leases))
    results = {}

    def go(lease):
        barrier.wait()
        results[lease.holder] = lease.acquire()

    threads = [threading.Thread(target=go, args=(lease,)) for lease in leases]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for lease in leases:
        lease.engine.dispose()
    assert sum(results.values()) == 1


def _app(url: str, settings) -> App:
    engine = make_engine(url)
    core = Core(engine, settings, secret=b"test-secret")
    return App(config=Config(_env_file=None, database_url=url), settings=settings, engine=engine, core=core)


def test_pg_two_instances_one_scheduler_each_notification_once(pg, settings):
    url = pg.url.render_as_string(hide_password=False)
    now = utcnow()
    with session_scope(pg) as s:
        for i in range(6):
            rep = f.staff(s, name=f"rep{i}", tz="UTC")
            rep.reminder_time = "00:00"
            c = f.customer(s, name=f"Cust {i}", owner=rep, now=now - timedelta(days=3))
            s.add(FollowUp(customer_id=c.id, date=now - timedelta(days=3), method="phone", content="x",
                           staff_id=rep.id, next_followup_at=now - timedelta(days=1), created_at=now))
    add_rows(pg, 40)
    log, lock = [], threading.Lock()
    apps = [_app(url, settings) for _ in range(2)]
    handles = [start_background(a, {"console": Recorder(log, lock, f"i{n}")}, sender_interval=0.2,
                                lease_ttl=timedelta(seconds=5), lease_every=0.3) for n, a in enumerate(apps)]
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(log) < 46:
            time.sleep(0.2)
        time.sleep(1.0)  # room for a duplicate to show up, if there were one
        leaders = [h.is_leader for h in handles]
    finally:
        for h in handles:
            h.stop()
        for a in apps:
            a.engine.dispose()
    assert leaders.count(True) == 1
    counts = Counter((chat, text) for chat, text, _ in log)
    assert set(counts.values()) == {1}  # whatever went out (other jobs may post too), it went out once
    assert sum(1 for chat, _ in counts if chat.startswith("@rep")) == 6
    assert sum(1 for _, text in counts if text.startswith("bulk ")) == 40


def test_pg_missed_digest_and_calendar_jobs_are_caught_up_once(pg, settings):
    from scheduler import runner

    with session_scope(pg) as s:
        rep = f.staff(s, name="max")
        c = f.customer(s, name="Due Co", owner=rep)
        s.add(FollowUp(customer_id=c.id, date=f.NOW, method="phone", content="x", staff_id=rep.id,
                       next_followup_at=f.NOW - timedelta(hours=3), created_at=f.NOW))
    back = f.NOW + timedelta(hours=1, minutes=30)  # 11:30 in Shanghai: the bot was down at 09:00
    assert set(runner.missed(pg, settings, now=back)) == {"complaint_review", "pool_return"}
    for _ in range(2):
        runner.run_job(pg, "followup_digest", now=back, settings=settings, channels={"console": "#service"})
        runner.run_job(pg, "complaint_review", now=back, settings=settings, channels={"console": "#service"})
    with session_scope(pg) as s:
        keys = list(s.scalars(select(Outbox.key)))
    assert [k for k in keys if k.startswith("digest:")] == [f"digest:{rep.id}:2026-11-23"]
    assert len(keys) == len(set(keys))  # the review (when installed) posted once, too
    assert runner.missed(pg, settings, now=back) == ["pool_return"]
