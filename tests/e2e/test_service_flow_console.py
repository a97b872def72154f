"""The whole service flow through the console driver: invite → customer complaint → channel post → assign by
select → agent note and resolve → customer confirms → rates 4 with a comment → /report csat."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from bot.console.driver import ConsoleSession, ConsoleTransport
from bot.outbox import Sender
from handlers.commands.customer_chat import create_invite
from handlers.context import Inbound
from storage.db import create_all, make_engine, session_scope
from storage.models import Customer, Ticket, TicketEvent
from tests import factories as f


@pytest.fixture
def engine(tmp_path):
    """A file database: the event-driven test runs the sender in a thread beside the main one, and threads
    must not share the in-memory database's single connection."""
    e = make_engine(f"sqlite:///{tmp_path / 'crm.db'}")
    create_all(e)
    yield e
    e.dispose()


@pytest.fixture
def world(core, engine):
    with session_scope(engine) as s:
        mia = f.staff(s, name="mia", role="manager")
        ray = f.staff(s, name="ray", role="rep", manager=mia)
        f.staff(s, name="sue", role="supervisor", team="service")
        alan = f.staff(s, name="alan", role="agent", team="service")
        f.staff(s, name="bea", role="agent", team="service")
        cust = f.customer(s, name="杭州云栖科技有限公司", owner=ray, contact="张伟")
        ids = {"alan": alan.id, "customer": cust.id}
    transport = ConsoleTransport()
    sender = Sender(engine, {"console": transport}, clock=core.clock)
    return {"ids": ids, "transport": transport, "sender": sender}


def invite_token(core, engine, *, by: str = "ray", contact: str | None = None) -> str:
    with session_scope(engine) as s:
        ctx = core.context(s, Inbound(platform="console", user_ref=by, chat_ref=f"@{by}"), core.clock())
        cust = s.scalars(select(Customer)).first()
        r = create_invite(ctx, cust, contact)
    text = "\n".join(getattr(v, "text", "") for v in r.views)
    return re.search(r"/start (\S+)", text).group(1)


def delivered(world, chat: str, *, since: int = 0):
    return [d for d in world["transport"].sent[since:] if d.chat_ref == chat]


def test_full_service_flow(core, engine, world, clock):
    sent = world["transport"].sent
    token = invite_token(core, engine)
    customer = ConsoleSession(core, user="wang", chat="cust-1", lang="zh")
    out = customer.send(f"/start {token}")
    assert "张伟" in out

    # the customer writes plainly: a ticket dialog starts with that text as the description
    customer.send("The system rejects every login since 9am")
    customer.press_cmd("complaint")
    woke: list[int] = []
    core.on_outbox.append(lambda: woke.append(1))  # what wakes the real sender thread after the commit
    out = customer.press_cmd("high")
    assert "FW2026001" in out
    assert woke == [1]
    # the supervisor channel post is there as soon as the outbox is drained (no scheduler)
    assert world["sender"].drain() >= 1
    posts = delivered(world, "#service")
    assert len(posts) == 1 and "FW2026001" in posts[0].text and "rejects every login" in posts[0].text

    sue = ConsoleSession(core, user="sue")
    sue.view(posts[0].reply, scope="c:#service")
    assert any(c.startswith("/ticket take FW2026001") for c in sue.choices())
    n_before = len(sent)
    out = sue.press_cmd(f"/ticket assign FW2026001 {world['ids']['alan']}")
    assert "alan" in out
    world["sender"].drain()
    edits = [d for d in sent[n_before:] if d.edit_of]
    assert len(edits) == 1 and edits[0].chat_ref == "#service" and "alan" in edits[0].text
    assert edits[0].edit_of == posts[0].message_ref
    dm = delivered(world, "@alan", since=n_before)
    assert len(dm) == 1

    alan = ConsoleSession(core, user="alan")
    alan.view(dm[0].reply, scope="u:@alan")
    assert {"/ticket accept FW2026001", "/ticket note FW2026001", "/ticket resolve FW2026001"} <= set(alan.choices())
    alan.press_cmd("/ticket accept")
    alan.view(dm[0].reply, scope="u:@alan")
    alan.press_cmd("/ticket note")
    out = alan.send("Called Mr Zhang, the SSO certificate expired")
    assert "Called Mr Zhang" in out
    alan.press_cmd("/ticket resolve")
    out = alan.send("Renewed the SSO certificate; logins work again")
    n_before = len(sent)
    world["sender"].drain()
    msg = delivered(world, "cust-1", since=n_before)
    assert len(msg) == 1 and "Renewed the SSO certificate" in msg[0].text

    customer.view(msg[0].reply, scope="c:cust-1")
    customer.press_cmd("/ticket confirm FW2026001")
    n_before = len(sent)
    world["sender"].drain()
    rating = delivered(world, "cust-1", since=n_before)
    assert len(rating) == 1
    customer.view(rating[0].reply, scope="c:cust-1")
    assert [c for c in customer.choices()] == [f"/rate FW2026001 {n}" for n in range(1, 6)]
    customer.press_cmd("/rate FW2026001 4")
    customer.send("Fast and friendly, thank you")

    with session_scope(engine) as s:
        t = s.scalars(select(Ticket)).one()
        assert (t.status, t.rating, t.rating_comment) == ("closed", 4, "Fast and friendly, thank you")
        kinds = [e.kind for e in s.scalars(select(TicketEvent).order_by(TicketEvent.id))]
    assert kinds == ["created", "assigned", "accepted", "note", "resolved", "confirmed", "rated", "comment"]
    out = sue.send("/report csat")
    assert "alan" in out and "4.0" in out and "Fast and friendly" in out


def test_channel_post_is_event_driven(core, engine, world):
    """With the sender's polling interval far away, the post still goes out: the commit wakes the sender."""
    import threading

    got = threading.Event()

    class Watching(ConsoleTransport):
        def send(self, chat_ref, reply, *, scope):
            ref = super().send(chat_ref, reply, scope=scope)
            if chat_ref == "#service":
                got.set()
            return ref

    transport = Watching()
    sender = Sender(engine, {"console": transport}, clock=core.clock)
    sender.start(interval=3600)
    try:
        assert not got.is_set()
        core.on_outbox.append(sender.wake)
        ConsoleSession(core, user="sue").send("/ticket new 云栖 complaint high: nobody can log in")
        assert got.wait(30)
    finally:
        sender.stop()
    assert "FW2026001" in [d for d in transport.sent if d.chat_ref == "#service"][0].text
