"""Two Telegram bots on one PostgreSQL database, like two `crm-bot run telegram` instances: only the scheduler
leader long-polls (Telegram answers a second poller of one token with 409 Conflict, and so does the fake); the
follower takes polling over when the leader dies, stops, or loses its lease, and an update is answered once."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

import tests.fakes.telegram_testcmds  # noqa: F401 - /tgtest_count: a counter that shows an update run twice
from bot.app import App
from bot.config import Config
from bot.services import Background, start_background
from bot.telegram.app import Webhook
from handlers.router import Core
from storage.db import make_engine, session_scope, utcnow
from storage.models import SchedulerLease
from tests import factories
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_harness import BotThread, make_bot

ALICE = 1003
TTL = timedelta(seconds=5)  # generous: a busy machine must not fail a healthy leader over
EVERY = 0.3


class Instance:
    """One running instance: its own engine and core, the real Telegram bot, the sender and the election."""

    def __init__(self, url: str, settings, fake: FakeTelegram, *, gated: bool = True,  # noqa: ANN001
                 webhook: Webhook | None = None) -> None:
        engine = make_engine(url)
        self.app = App(config=Config(_env_file=None, database_url=url), settings=settings, engine=engine,
                       core=Core(engine, settings))  # the signing key: the one kept in the shared database
        self.bot = make_bot(self.app.core, fake, poll_when_leading=gated)
        self.runner = BotThread(self.bot, webhook=webhook).start()
        self.bg: Background = start_background(self.app, {}, sender=self.bot.sender, lease_ttl=TTL,
                                               lease_every=EVERY, on_elected=[self.bot.lead],
                                               on_deposed=[self.bot.step_down])
        self.alive = True

    @property
    def leads(self) -> bool:
        return self.bg.is_leader

    def crash(self) -> None:
        """Die without a word: the poller goes with the process, the lease is left to expire."""
        self.runner.stop()
        self.bg.leadership.stop(release=False)
        self.alive = False

    def stop(self) -> None:
        """A clean shutdown: stop polling, release the lease, stop the bot."""
        if self.alive:
            self.bg.stop()
            self.runner.stop()
            self.alive = False
        self.app.engine.dispose()


@pytest.fixture
def fake():  # noqa: ANN201
    fake = FakeTelegram().start()
    yield fake
    fake.stop()


@pytest.fixture
def two(pg_db, settings, fake):  # noqa: ANN201
    with session_scope(pg_db) as s:
        factories.staff(s, name="alice", role="supervisor", telegram_id=ALICE, lang="en")
    url = pg_db.url.render_as_string(hide_password=False)
    instances: list[Instance] = []
    yield lambda **kw: instances.extend(Instance(url, settings, fake, **kw) for _ in range(2)) or instances
    for i in instances:
        with contextlib.suppress(AssertionError):  # a bot that failed to stop is reported by its own test
            i.stop()


def polls_held(fake: FakeTelegram, n: int) -> int:
    """Wait until `n` more long polls were made than now; return the count then."""
    start = len(fake.calls_of("getUpdates"))
    fake.wait_for(lambda: len(fake.calls_of("getUpdates")) >= start + n, timeout=20)
    return len(fake.calls_of("getUpdates"))


def count(fake: FakeTelegram) -> None:
    fake.push_message(chat_id=ALICE, user_id=ALICE, text="/tgtest_count")


def answered(fake: FakeTelegram) -> list[str]:
    return [m["text"] for m in fake.sent(ALICE)]


def test_only_the_leader_polls_and_the_follower_takes_over_when_it_dies(two, fake) -> None:
    a, b = two()
    fake.wait_for(lambda: a.bot.polling or b.bot.polling, timeout=20)
    polls_held(fake, 10)  # ten long polls later, still one poller
    leader, follower = (a, b) if a.leads else (b, a)
    assert leader.leads and not follower.leads
    assert leader.bot.polling and not follower.bot.polling
    assert fake.conflicts == 0 and fake.max_concurrent_polls == 1

    count(fake)
    fake.wait_sent(ALICE, 1)

    leader.crash()
    count(fake)  # waits at Telegram meanwhile
    fake.wait_for(lambda: follower.leads and follower.bot.polling, timeout=30)
    fake.wait_sent(ALICE, 2)
    count(fake)
    fake.wait_sent(ALICE, 3)  # answered in order by the one poller: a duplicate of the second came first
    assert answered(fake) == ["count=1", "count=2", "count=3"]
    assert fake.conflicts == 0 and fake.max_concurrent_polls == 1


def test_a_deposed_leader_stops_polling_and_a_clean_stop_hands_over_at_once(two, fake, pg_db) -> None:
    a, b = two()
    fake.wait_for(lambda: a.bot.polling or b.bot.polling, timeout=20)
    leader, follower = (a, b) if a.leads else (b, a)

    with session_scope(pg_db) as s:  # a third holder takes the lease (e.g. the leader froze past its ttl)
        s.execute(update(SchedulerLease).values(holder="elsewhere", expires_at=utcnow() + timedelta(hours=1)))
    fake.wait_for(lambda: not leader.leads and not leader.bot.polling, timeout=20)
    assert not follower.bot.polling  # nobody polls while a third instance leads
    count(fake)

    with session_scope(pg_db) as s:  # that one is gone: its lease expires
        s.execute(update(SchedulerLease).values(expires_at=utcnow() - timedelta(seconds=1)))
    fake.wait_for(lambda: (a.leads and a.bot.polling) or (b.leads and b.bot.polling), timeout=20)
    fake.wait_sent(ALICE, 1)
    new = a if a.leads else b
    other = b if new is a else a
    assert not other.bot.polling

    new.stop()  # releases the lease: the other takes over at its next try
    fake.wait_for(lambda: other.leads and other.bot.polling, timeout=20)
    count(fake)
    fake.wait_sent(ALICE, 2)
    assert answered(fake) == ["count=1", "count=2"]
    assert fake.conflicts == 0 and fake.max_concurrent_polls == 1


def test_without_the_lease_gate_two_pollers_conflict(two, fake) -> None:
    """What the gate prevents (and that the fake sees it, as Telegram does)."""
    a, b = two(gated=False)
    fake.wait_for(lambda: a.bot.polling and b.bot.polling, timeout=20)
    fake.wait_for(lambda: fake.conflicts >= 3, timeout=20)
    assert fake.max_concurrent_polls == 2


def test_webhook_instances_share_one_secret_and_either_takes_an_update_once(two, fake) -> None:
    """Behind one URL, Telegram posts to either instance: without TELEGRAM_WEBHOOK_SECRET both must accept the
    secret the last one registered (derived from the shared signing key), and a retry that reaches the other
    instance changes nothing."""
    hook = Webhook(url="https://crm.example.test/tg", port=0, listen="127.0.0.1")
    a, b = two(webhook=hook)
    registered = fake.webhook["secret_token"]
    assert a.bot.webhook_secret == b.bot.webhook_secret == registered
    assert len(fake.calls_of("setWebhook")) == 2
    update = fake.message_update(chat_id=ALICE, user_id=ALICE, text="/tgtest_count")
    headers = {"X-Telegram-Bot-Api-Secret-Token": registered}
    for inst in (a, b):  # the first try reaches one instance, Telegram's retry the other
        r = httpx.post(f"http://127.0.0.1:{inst.bot.webhook_port}/tg", json=update, headers=headers)
        assert r.status_code == 200
    fake.wait_sent(ALICE, 1)
    after = fake.message_update(chat_id=ALICE, user_id=ALICE, text="/tgtest_count")
    assert httpx.post(f"http://127.0.0.1:{a.bot.webhook_port}/tg", json=after, headers=headers).status_code == 200
    fake.wait_sent(ALICE, 2)
    assert answered(fake) == ["count=1", "count=2"]
    assert not fake.calls_of("getUpdates")
