"""The outbox sender: retries (429 after the server's wait, 5xx with backoff), permanent failures, stale claims."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.delivery import Permanent, RetryAfter, Transient
from bot.outbox import Sender
from handlers import notify
from handlers.views import Reply, Text
from storage import outbox
from storage.db import session_scope
from storage.models import Outbox


class FakeTransport:
    """Records what it delivers; raises the scripted errors first (one per call, None = succeed)."""

    platform = "console"

    def __init__(self, *errors: Exception | None) -> None:
        self.errors = list(errors)
        self.sent: list[tuple[str, str]] = []
        self.edits: list[tuple[str, str, str]] = []

    def _maybe_raise(self) -> None:
        if self.errors:
            e = self.errors.pop(0)
            if e is not None:
                raise e

    def send(self, chat_ref, reply, *, scope):
        self._maybe_raise()
        self.sent.append((chat_ref, reply.views[0].text))
        return f"m{len(self.sent)}"

    def edit(self, chat_ref, message_ref, reply, *, scope):
        self._maybe_raise()
        self.edits.append((chat_ref, message_ref, reply.views[0].text))


def put(engine, clock, key, chat="@a", *, edit_key=None, text=None):
    with session_scope(engine) as s:
        return notify.to_chat(s, platform="console", chat_ref=chat, key=key, reply=Reply(views=(Text(text or key),)),
                              now=clock(), edit_key=edit_key)


def row(engine, key) -> Outbox:
    with session_scope(engine) as s:
        return s.scalar(select(Outbox).where(Outbox.key == key))


def test_outbox_same_key_is_written_once_and_sent_once(engine, clock):
    assert put(engine, clock, "k1") is True
    assert put(engine, clock, "k1") is False
    t = FakeTransport()
    sender = Sender(engine, {"console": t}, clock=clock)
    assert sender.drain() == 1
    assert sender.drain() == 0
    assert t.sent == [("@a", "k1")]
    r = row(engine, "k1")
    assert (r.status, r.message_ref, r.attempts) == ("sent", "m1", 1)


def test_outbox_retry_after_waits_the_servers_time_and_pauses_the_platform(engine, clock):
    for k in ("k1", "k2", "k3"):
        put(engine, clock, k)
    t = FakeTransport(RetryAfter(30))
    sender = Sender(engine, {"console": t}, clock=clock)
    assert sender.drain() == 0
    assert t.sent == []  # k2 and k3 were not tried: the platform asked us to wait
    r = row(engine, "k1")
    assert r.status == "pending" and r.next_attempt_at == clock() + timedelta(seconds=30)
    assert [row(engine, k).attempts for k in ("k1", "k2", "k3")] == [1, 0, 0]
    clock.advance(seconds=29)
    assert sender.drain() == 0
    clock.advance(seconds=1)
    assert sender.drain() == 3
    assert [k for _, k in t.sent] == ["k1", "k2", "k3"]


def test_outbox_transient_backs_off_exponentially_then_fails(engine, clock):
    put(engine, clock, "k1")
    t = FakeTransport(*[Transient("502")] * 20)
    sender = Sender(engine, {"console": t}, clock=clock)
    waits = []
    for _ in range(outbox.MAX_ATTEMPTS):
        before = clock()
        sender.drain()
        r = row(engine, "k1")
        if r.status == "failed":
            break
        waits.append((r.next_attempt_at - before).total_seconds())
        clock.now = r.next_attempt_at
    assert waits == [2, 4, 8, 16, 32, 64, 128]
    r = row(engine, "k1")
    assert r.status == "failed" and r.last_error == "502" and r.attempts == outbox.MAX_ATTEMPTS


def test_outbox_transient_then_success(engine, clock):
    put(engine, clock, "k1")
    t = FakeTransport(Transient("503"), None)
    sender = Sender(engine, {"console": t}, clock=clock)
    assert sender.drain() == 0
    clock.advance(seconds=2)
    assert sender.drain() == 1
    assert row(engine, "k1").status == "sent"


def test_outbox_permanent_fails_at_once_and_can_be_retried(engine, clock):
    put(engine, clock, "k1")
    put(engine, clock, "k2")
    t = FakeTransport(Permanent("chat not found"))
    sender = Sender(engine, {"console": t}, clock=clock)
    assert sender.drain() == 1
    r = row(engine, "k1")
    assert r.status == "failed" and r.last_error == "chat not found"
    with session_scope(engine) as s:
        assert [x.key for x in outbox.list_rows(s, status="failed")] == ["k1"]
        assert outbox.retry(s, now=clock(), all_failed=True) == 1
    assert sender.drain() == 1
    assert row(engine, "k1").status == "sent"
    assert sorted(k for _, k in t.sent) == ["k1", "k2"]


def test_outbox_a_renderer_bug_is_retried_not_lost(engine, clock):
    put(engine, clock, "k1")
    t = FakeTransport(ValueError("bad block"))
    sender = Sender(engine, {"console": t}, clock=clock)
    assert sender.drain() == 0
    r = row(engine, "k1")
    assert r.status == "pending" and "ValueError" in r.last_error


def test_outbox_stale_claim_of_a_dead_worker_is_claimed_again_after_the_timeout(engine, clock):
    put(engine, clock, "k1")
    with session_scope(engine) as s:  # a worker claims the row and dies before marking it sent
        (claimed,) = outbox.claim(s, worker="dead", now=clock())
    t = FakeTransport()
    sender = Sender(engine, {"console": t}, clock=clock, claim_timeout=timedelta(minutes=5))
    clock.advance(minutes=4)
    assert sender.drain() == 0
    clock.advance(minutes=1, seconds=1)
    assert sender.drain() == 1
    assert t.sent == [("@a", "k1")]
    r = row(engine, "k1")
    assert r.status == "sent" and r.claimed_by == sender.worker and r.attempts == 2
    # the dead worker's late bookkeeping does not overwrite the new claim's outcome
    with session_scope(engine) as s:
        assert outbox.mark_sent(s, claimed.id, now=clock(), message_ref="zombie", worker="dead") is False
    assert row(engine, "k1").message_ref == "m1"


def test_outbox_edit_waits_for_the_original_then_edits_it(engine, clock):
    put(engine, clock, "post@console", chat="#service")
    put(engine, clock, "post@console#2", chat="#service", edit_key="post@console", text="assigned")
    t = FakeTransport()
    sender = Sender(engine, {"console": t}, clock=clock)
    sender.drain()
    if not t.edits:  # the edit was tried before the original was sent: it is retried shortly
        clock.advance(seconds=10)
        sender.drain()
    assert t.edits == [("#service", "m1", "assigned")]


def test_outbox_edit_of_a_message_never_sent_fails(engine, clock):
    put(engine, clock, "edit", chat="#service", edit_key="never")
    sender = Sender(engine, {"console": FakeTransport()}, clock=clock)
    sender.drain()
    assert row(engine, "edit").status == "failed"


def test_outbox_rows_for_other_platforms_wait_for_their_sender(engine, clock):
    with session_scope(engine) as s:
        notify.to_chat(s, platform="slack", chat_ref="C1", key="s1", reply=Reply(views=(Text("x"),)), now=clock())
    sender = Sender(engine, {"console": FakeTransport()}, clock=clock)
    assert sender.drain() == 0
    assert row(engine, "s1").status == "pending"
