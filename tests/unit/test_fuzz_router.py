"""Property-based fuzzing of the core: every verb of the verb table, with grammar-shaped arguments (real codes,
amounts, dates, quotes, key=value pairs, odd Unicode), typed by every kind of actor, answers in words — never
"Something went wrong" — and the database stays consistent. On SQLite, and on PostgreSQL when
TEST_DATABASE_URL is set.

CI runs a fixed, derandomized set of examples; `CRM_FUZZ_EXAMPLES=5000` explores more, and `CRM_FUZZ_RANDOM=1`
explores other examples on each run (README, tests).
"""

from __future__ import annotations

import logging
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel

from bot.console.driver import ConsoleSession
from bot.console.render import render
from handlers.context import Inbound
from handlers.dialogs import engine as dialogs
from handlers.i18n import t
from handlers.router import Core
from handlers.settings import DomainSettings
from storage.db import create_all, make_engine
from tests import fuzz_world as world
from tests.conftest import Clock

EXAMPLES = int(os.environ.get("CRM_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=not os.environ.get("CRM_FUZZ_RANDOM"), database=None,
                deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
INTERNAL = tuple(t(lang, "err.internal", ref="@").split("@")[0] for lang in ("en", "zh"))
ACTORS = [*world.STAFF, "tina", world.CUSTOMER_CHAT, world.STRANGER]


class Escaped(logging.Handler):
    """Collects every error the core logs (an unexpected exception is logged with its reference)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class World:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        if not url.startswith("sqlite"):
            SQLModel.metadata.drop_all(self.engine)
        create_all(self.engine)
        self.clock = Clock()
        self.core = Core(self.engine, DomainSettings(_env_file=None), secret=b"fuzz", clock=self.clock)
        self.escaped = Escaped()
        logging.getLogger("crm").addHandler(self.escaped)
        self.known = world.seed(self.core)
        assert not self.escaped.records, self.escaped.records

    def close(self, url: str) -> None:
        logging.getLogger("crm").removeHandler(self.escaped)
        if not url.startswith("sqlite"):
            SQLModel.metadata.drop_all(self.engine)
        self.engine.dispose()

    def session(self, actor: str | tuple[str, str]) -> ConsoleSession:
        if actor == "tina":  # a Telegram staff member: the platform's numeric ids
            return _Telegram(self.core)
        user, chat = actor if isinstance(actor, tuple) else (actor, None)
        return ConsoleSession(self.core, user=user, chat=chat)

    def step(self) -> None:
        self.escaped.records.clear()
        self.clock.advance(minutes=7)
        world.revive(self.core)

    def assert_clean(self, *replies: str) -> None:
        for text in replies:
            assert not any(m in text for m in INTERNAL), text
        assert not self.escaped.records, [r.getMessage() for r in self.escaped.records]
        world.check_consistent(self.core)


class _Telegram(ConsoleSession):
    def __init__(self, core: Core) -> None:
        super().__init__(core, user="tina")

    def _inbound(self, **kw: object) -> Inbound:
        return Inbound(platform="telegram", user_ref="5550001", chat_ref="5550001", scopes=("c:5550001",),
                       **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzz_world(request):
    url = "sqlite://" if request.param == "sqlite" else os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    w = World(url)
    yield w
    w.close(url)


def _conversation(known: dict) -> st.SearchStrategy:
    """One actor types 1-4 lines; after each, maybe presses one of the offered buttons."""
    turn = st.tuples(world.lines(known), st.none() | st.integers(min_value=1, max_value=30))
    return st.tuples(st.sampled_from(ACTORS), st.lists(turn, min_size=1, max_size=4))


def test_fuzz_router_every_verb_answers_in_words(fuzz_world):
    @FUZZ
    @given(data=st.data())
    def run(data) -> None:
        w = fuzz_world
        w.step()
        actor, turns = data.draw(_conversation(w.known))
        chat, replies = w.session(actor), []
        for line, press in turns:
            replies.append(chat.send(line))
            if press is not None and press <= len(chat.last.actions):
                replies.append(chat.press(press))
        w.assert_clean(*replies)

    run()


@pytest.mark.parametrize("verb", world.PRODUCT_VERBS)
def test_fuzz_router_each_verb_by_each_role(fuzz_world, verb):
    """A shorter run per verb, so no verb is left to chance."""
    @settings(FUZZ, max_examples=max(4, EXAMPLES // 15))
    @given(actor=st.sampled_from(ACTORS), args=world.arguments(fuzz_world.known))
    def run(actor, args) -> None:
        fuzz_world.step()
        chat = fuzz_world.session(actor)
        fuzz_world.assert_clean(chat.send(f"/{verb} {args}"))

    run()


def test_fuzz_router_forms_and_tokens(fuzz_world):
    """Slack modal submissions with arbitrary values and button tokens that were never signed."""
    names = sorted(dialogs.DIALOGS)
    values = st.one_of(world.arguments(fuzz_world.known), st.sampled_from(world.ODD + world.DATES + world.NUMBERS))

    @settings(FUZZ, max_examples=max(10, EXAMPLES // 2))
    @given(dialog=st.sampled_from(names), form=st.dictionaries(st.sampled_from(
        sorted({s.name for d in dialogs.DIALOGS.values() for s in d.steps})), values, max_size=8),
        token=st.one_of(st.text(max_size=70), st.sampled_from(["/help|zz|ääääääääää", "#1|zz|abcdefghij"])),
        actor=st.sampled_from(ACTORS))
    def run(dialog, form, token, actor) -> None:
        w = fuzz_world
        w.step()
        user, chat = actor if isinstance(actor, tuple) else (actor, f"@{actor}")
        base = dict(platform="console", user_ref=user, chat_ref=chat, scopes=(f"c:{chat}",))
        try:
            r = w.core.handle(Inbound(**base, form=form, dialog=dialog, surface="form"))
        except dialogs.FormErrors:
            r = None
        out = [render(r, "en").text] if r is not None else []
        out.append(render(w.core.handle(Inbound(**base, token=token)), "en").text)
        w.assert_clean(*out)

    run()
