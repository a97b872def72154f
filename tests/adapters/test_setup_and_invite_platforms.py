"""Through the platform fakes: `/setup service` typed in a Slack channel and in a Telegram group makes it the
service channel (a public confirmation there, then ticket posts go there); a staff invite's deep link opened
in Telegram links the account."""
# ruff: noqa: F811 - the shared fixtures are imported by name (tests/fakes/slack_fixtures.py)

from __future__ import annotations

import html
import json
import re

import pytest

from handlers.context import Inbound
from handlers.i18n import t
from handlers.router import Core
from storage.db import create_all, make_engine, session_scope
from storage.repos import settings as settings_repo
from storage.repos import staff as staff_repo
from tests import factories as f
from tests.fakes.slack_fixtures import SERVICE_CHANNEL, slack  # noqa: F401
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_harness import running_bot

GROUP, ADA, NEWBIE = -1001234500000, 201, 202


def plain(call) -> str:  # noqa: ANN001
    return html.unescape(re.sub(r"</?[bi]>", "", call["text"]))


def test_setup_service_in_a_slack_channel(slack) -> None:
    env = slack
    env.staff("ada", slack_id="UADA", role="admin")
    env.staff("sue", slack_id="USUE", role="supervisor", team="service")
    with session_scope(env.engine) as s:
        f.customer(s, name="Beta Retail", contact="Li Na")
    env.slack.command("/setup", "service", user="UADA", channel="COPS")
    [said] = env.fake.wait("response_url")
    assert said.args.get("response_type") == "in_channel"
    shown = json.dumps(said.blocks, ensure_ascii=False) + said.args.get("text", "")
    assert t("en", "setup.service_done", platform="slack") in shown
    env.slack.command("/ticket", "new Beta complaint high: checkout down", user="USUE", channel="DSUE")
    created = env.fake.wait("response_url", 2)[-1]
    assert "FW2026001" in json.dumps(created.blocks, ensure_ascii=False) + created.args.get("text", "")
    assert env.drain() >= 1
    posts = [c.args["channel"] for c in env.fake.calls_to("chat.postMessage")]
    assert "COPS" in posts and SERVICE_CHANNEL not in posts
    assert env.fake.problems == []


@pytest.fixture
def tg_world(tmp_path, settings, clock):
    engine = make_engine(f"sqlite:///{tmp_path}/crm.db")
    create_all(engine)
    with session_scope(engine) as s:
        f.staff(s, name="ada", role="admin", telegram_id=ADA)
        f.staff(s, name="alan", role="agent", team="service")
    core = Core(engine, settings, secret=b"e2e", clock=clock, bot_names={"telegram": "crm_test_bot"})
    fake = FakeTelegram().start()
    yield core, fake
    fake.stop()
    engine.dispose()


def test_setup_service_in_a_telegram_group_and_a_staff_invite(tg_world) -> None:
    core, fake = tg_world
    with session_scope(core.engine) as s:
        ctx = core.context(s, Inbound(platform="telegram", user_ref=str(ADA), chat_ref=str(ADA)), core.clock())
        assert ctx.channels == {"console": "#service"}
    with running_bot(core, fake):
        fake.push_message(chat_id=ADA, user_id=ADA, text="/setup service")
        [private] = fake.wait_sent(ADA)
        assert t("en", "setup.err.not_group") in plain(private)
        fake.push_message(chat_id=GROUP, user_id=ADA, text="/setup service")
        [done] = fake.wait_sent(GROUP)
        assert t("en", "setup.service_done", platform="telegram") in plain(done)
        fake.push_message(chat_id=GROUP, user_id=ADA, text="/setup")
        [shown] = fake.wait_sent(GROUP, after=1)
        assert str(GROUP) in plain(shown)
        fake.push_message(chat_id=ADA, user_id=ADA, text="/staff invite alan")
        [inv] = fake.wait_sent(ADA, after=1)
        token = re.search(r"https://t\.me/crm_test_bot\?start=([A-Za-z0-9_-]+)", plain(inv)).group(1)
        fake.push_message(chat_id=NEWBIE, user_id=NEWBIE, text=f"/start {token}")
        [welcome] = fake.wait_sent(NEWBIE)
        assert "alan" in plain(welcome)
    with session_scope(core.engine) as s:
        assert settings_repo.service_channels(s) == {"telegram": str(GROUP)}
        assert staff_repo.get_by_name(s, name="alan").telegram_id == NEWBIE
