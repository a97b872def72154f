"""The outbox delivers one chat's rows in the order they were written, with one sender or several (PostgreSQL),
and keeps a chat's rows back while an adapter holds it (a direct reply is on its way)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from bot.outbox import Sender
from handlers import notify
from handlers.views import Reply, Text
from storage import outbox
from storage.db import create_all, make_engine, session_scope, utcnow


class Recorder:
    """A transport that records deliveries (several senders may share it)."""

    platform = "console"

    def __init__(self, log: list, lock: threading.Lock) -> None:
        self.log, self.lock = log, lock

    def send(self, chat_ref, reply, *, scope):  # noqa: ANN001, ANN201
        time.sleep(0.002)  # a little latency so that claims overlap
        with self.lock:
            self.log.append((chat_ref, int(reply.views[0].text)))
            return str(len(self.log))

    def edit(self, chat_ref, message_ref, reply, *, scope):  # noqa: ANN001, ANN201
        pass


def add(engine, n: int, chats: int, now) -> None:  # noqa: ANN001
    with session_scope(engine) as s:
        for i in range(n):
            notify.to_chat(s, platform="console", chat_ref=f"@c{i % chats}", key=f"k{i}",
                           reply=Reply(views=(Text(str(i)),)), now=now)


def by_chat(log: list) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for chat, n in log:
        out[chat].append(n)
    return out


def test_claim_takes_only_the_oldest_unsent_row_of_a_chat(engine, clock) -> None:
    add(engine, 4, 2, clock())  # @c0: 0, 2   @c1: 1, 3
    with session_scope(engine) as s:
        first = outbox.claim(s, worker="w", now=clock(), limit=10)
        assert [r.key for r in first] == ["k0", "k1"]
        outbox.mark_retry(s, first[0].id, now=clock(), delay=timedelta(seconds=30), error="500")
        outbox.mark_sent(s, first[1].id, now=clock(), message_ref="m1")
    with session_scope(engine) as s:  # k2 waits for k0 (in retry); k3 may go
        assert [r.key for r in outbox.claim(s, worker="w", now=clock(), limit=10)] == ["k3"]
    with session_scope(engine) as s:  # a chat held by an adapter waits too
        assert outbox.claim(s, worker="w", now=clock() + timedelta(minutes=1), held=[("console", "@c0")]) == []
    with session_scope(engine) as s:
        assert [r.key for r in outbox.claim(s, worker="w", now=clock() + timedelta(minutes=1))] == ["k0"]


def test_sender_holding_a_chat_keeps_its_rows_until_released(engine, clock) -> None:
    add(engine, 3, 3, clock())
    log, lock = [], threading.Lock()
    sender = Sender(engine, {"console": Recorder(log, lock)}, clock=clock)
    with sender.holding("console", "@c1"):
        assert sender.drain() == 2 and sorted(log) == [("@c0", 0), ("@c2", 2)]
    assert sender.drain() == 1 and log[-1] == ("@c1", 1)


@pytest.fixture
def pg(pg_url):
    engine = make_engine(pg_url)
    create_all(engine)
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as c:
        c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield engine
    engine.dispose()


def test_pg_two_senders_keep_each_chats_order(pg) -> None:
    add(pg, 90, 3, utcnow() - timedelta(seconds=1))
    log, lock = [], threading.Lock()
    engines = [make_engine(pg.url.render_as_string(hide_password=False)) for _ in range(2)]
    senders = [Sender(e, {"console": Recorder(log, lock)}, worker=f"s{i}", batch=5) for i, e in enumerate(engines)]
    threads = [threading.Thread(target=s.drain, kwargs={"max_rounds": 1000}) for s in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for e in engines:
        e.dispose()
    assert len(log) == 90
    for chat, ns in by_chat(log).items():
        assert ns == sorted(ns), chat
