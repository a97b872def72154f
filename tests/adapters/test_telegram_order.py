"""One chat gets the messages of one action in the order they were produced, also across retries: the real bot
(python-telegram-bot) against the fake Bot API, which records the order of sendMessage per chat."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from handlers import actions, notify
from handlers.i18n import t
from handlers.views import Reply, Text
from storage.db import session_scope
from storage.models import ChatBinding, Contact, Outbox, Staff, Ticket
from tests import factories
from tests.adapters.telegram_fixtures import *  # noqa: F403
from tests.adapters.telegram_fixtures import ALICE
from tests.fakes.telegram_harness import running_bot

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CUST = 7007
CODE = "FW2026001"


@pytest.fixture
def resolved(tg_engine, staff, clock) -> str:
    """A resolved ticket of a customer who talks to the bot in the Telegram chat CUST."""
    now = clock()
    with Session(tg_engine) as s:
        bob = s.scalar(select(Staff).where(Staff.name == "bob"))
        c = factories.customer(s, name="合力环保", now=now)
        contact = s.scalar(select(Contact).where(Contact.customer_id == c.id))
        s.add(ChatBinding(platform="telegram", chat_ref=str(CUST), user_ref=str(CUST), customer_id=c.id,
                          contact_id=contact.id, lang="en", created_at=now))
        s.add(Ticket(code=CODE, customer_id=c.id, contact_id=contact.id, description="the printer jams",
                     type="complaint", priority="high", status="resolved", assignee_id=bob.id,
                     resolution="new roller", created_at=now, updated_at=now, resolved_at=now))
        s.commit()
    return CODE


def texts(fake, chat: int) -> list[str]:  # noqa: ANN001
    return [c["text"] for c in fake.sent(chat)]


def test_solved_reply_comes_before_the_rating_question_when_its_first_send_fails(
        tg_core, fake, resolved, clock) -> None:
    fake.fail_next("sendMessage", status=500, chat_id=CUST)  # the first message to the customer: a 500
    token = actions.encode(f"/ticket confirm {resolved}", scope=f"c:{CUST}", secret=tg_core.secret, now=clock())
    with running_bot(tg_core, fake):
        fake.push_callback(chat_id=CUST, user_id=CUST, data=token)  # "Solved, thanks"
        fake.wait_sent(CUST, 2)
    closed, rating = texts(fake, CUST)
    assert closed == t("en", "tk.cust_confirmed", code=CODE)
    assert rating.startswith(t("en", "rate.request", code=CODE).split("{")[0][:20])
    calls = fake.calls_of("sendMessage", chat_id=CUST)
    assert len(calls) == 3 and calls[0].result is None  # the failed send, tried again in place, then the rating
    assert fake.problems == []


def test_queued_messages_of_one_chat_wait_for_an_earlier_one_in_retry(tg_core, fake, clock) -> None:
    with session_scope(tg_core.engine) as s:  # one action queues two messages to one chat, one to another
        for key, chat, text in (("a1", CUST, "first"), ("a2", CUST, "second"), ("b1", ALICE, "other")):
            notify.to_chat(s, platform="telegram", chat_ref=str(chat), key=key,
                           reply=Reply(views=(Text(text),)), now=clock())
    fake.fail_next("sendMessage", status=500, chat_id=CUST, times=3)  # more than the bot retries in place
    with running_bot(tg_core, fake) as tb:  # its sender drains at start
        fake.wait_for(lambda: status(tg_core.engine) == {"a1": "pending", "a2": "pending", "b1": "sent"})
        assert texts(fake, CUST) == [] and texts(fake, ALICE) == ["other"]  # "second" waits for "first"
        clock.advance(seconds=3)  # past the first row's backoff
        assert tb.sender.drain() == 2
    assert texts(fake, CUST) == ["first", "second"]


def status(engine) -> dict[str, str]:  # noqa: ANN001
    with Session(engine) as s:
        return {r.key: r.status for r in s.scalars(select(Outbox))}
