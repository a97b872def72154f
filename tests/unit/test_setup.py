"""`/setup` and `/setup service` (admins): the chat typed in becomes its platform's service channel, stored in
the database over the env default, for messages and jobs alike."""

from __future__ import annotations

import pytest

from handlers.context import Inbound
from handlers.i18n import t
from handlers.router import Core
from scheduler import runner
from storage.db import session_scope
from storage.repos import settings as settings_repo
from tests.unit.test_tickets_support import Desk


@pytest.fixture
def desk(core, engine) -> Desk:
    return Desk(core, engine)


def say(core, by: str, chat: str, line: str, *, platform: str = "console", group: bool = False):
    return core.handle(Inbound(platform=platform, user_ref=by, chat_ref=chat, text=line, is_group=group))


def text(reply) -> str:
    return "\n".join(getattr(v, "text", "") or "\n".join(f"{k}: {x}" for k, x in getattr(v, "items", ()))
                     for v in reply.views)


def test_setup_service_moves_ticket_posts(desk):
    r = say(desk.core, "ada", "#ops", "/setup service")
    assert r.public and text(r).startswith(t("en", "setup.service_done", platform="console"))
    assert t("en", "setup.service_before", chat="#service") in text(r)
    desk.open(line="Beta complaint high: checkout down")
    items = desk.drain()
    assert desk.to("#ops", items) and not desk.to("#service", items)
    with session_scope(desk.engine) as s:
        assert settings_repo.service_channels(s) == {"console": "#ops"}


def test_setup_shows_this_chat_and_the_channels(desk):
    out = text(say(desk.core, "ada", "#ops", "/setup"))
    assert t("en", "setup.this_chat", platform="console", chat="#ops") in out
    assert t("en", "setup.from_env", chat="#service") in out
    say(desk.core, "ada", "#ops", "/setup service")
    assert t("en", "setup.from_chat", chat="#ops") in text(say(desk.core, "ada", "@ada", "/setup"))


def test_admins_only_and_only_in_a_group(desk):
    assert t("en", "setup.title") not in text(say(desk.core, "sue", "#ops", "/setup service"))
    with session_scope(desk.engine) as s:
        assert settings_repo.service_channels(s) == {}
    out = text(say(desk.core, "ada", "@ada", "/setup service", platform="telegram"))
    assert out  # ada is not on Telegram: a stranger there
    with session_scope(desk.engine) as s:
        assert settings_repo.service_channels(s) == {}


def test_stored_channel_overrides_env_for_jobs(engine, settings, clock):
    core = Core(engine, settings, secret=b"s", clock=clock, channels={"slack": "C_ENV"})
    desk = Desk(core, engine)
    with session_scope(engine) as s:
        assert core.context(s, Inbound(platform="console", user_ref="ada", chat_ref="@ada"),
                            clock()).channels == {"slack": "C_ENV"}
    say(core, "ada", "#ops", "/setup service")
    with session_scope(engine) as s:
        ctx = core.context(s, Inbound(platform="console", user_ref="ada", chat_ref="@ada"), clock())
        assert ctx.channels == {"slack": "C_ENV", "console": "#ops"}
    desk.open(line="Beta complaint high: checkout down")  # unassigned: the SLA watch escalates to the channel
    desk.drain()
    clock.advance(hours=4)
    runner.run_job(engine, "sla_watch", now=clock(), settings=settings, channels=core.channels)
    assert desk.to("#ops", desk.drain())
