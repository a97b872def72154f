"""Both platforms in one process on SQLite (`crm-bot run all`): staff in Slack, the customer on Telegram.

The real Bolt app (signed requests) and the real PTB bot run against their fakes, sharing one core and the ONE
outbox sender `bot.run_both` assembles: a Telegram customer's high-priority complaint is posted to the Slack
service channel; a Slack supervisor assigns it with the button; the agent gets a Slack DM, accepts and
resolves; the customer confirms on Telegram, the rating question arrives on Telegram, the rating is stored."""

from __future__ import annotations

import html
import json
import re
import time

import pytest
from sqlmodel import select

from bot.run_both import shared_sender
from bot.slack.app import SlackBot
from bot.slack.server import add_slack
from bot.telegram.app import TelegramBot
from bot.web.server import WebServer
from handlers.commands.customer_chat import create_invite
from handlers.context import Inbound
from handlers.router import Core
from storage.db import create_all, make_engine, session_scope
from storage.models import Customer, Ticket
from tests import factories as f
from tests.fakes.slack_api import TOKEN, FakeSlack, commands
from tests.fakes.slack_fixtures import SECRET
from tests.fakes.slack_platform import SlackPlatform
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_harness import FAST, BotThread

CUST = 7001  # the customer's Telegram chat


def plain(call) -> str:  # noqa: ANN001
    return html.unescape(re.sub(r"</?[bi]>", "", call["text"]))


def texts(call) -> str:  # noqa: ANN001
    return json.dumps(call.blocks, ensure_ascii=False) + (call.args.get("text") or "")


def posted(fake: FakeSlack, channel: str, after: int = 0, timeout: float = 10.0):  # noqa: ANN201
    """The first chat.postMessage to `channel` among the calls after the first `after`, waiting for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = [c for c in fake.calls_to("chat.postMessage")[after:] if c.args.get("channel") == channel]
        if got:
            return got[0]
        time.sleep(0.02)
    raise AssertionError(f"nothing posted to {channel}")


@pytest.fixture
def world(tmp_path, settings, clock):  # noqa: ANN001, ANN201
    engine = make_engine(f"sqlite:///{tmp_path}/crm.db")
    create_all(engine)
    with session_scope(engine) as s:
        ray = f.staff(s, name="ray", role="rep", slack_id="URAY")
        f.staff(s, name="sue", role="supervisor", team="service", slack_id="USUE")
        alan = f.staff(s, name="alan", role="agent", team="service", slack_id="UALAN")
        f.customer(s, name="Acme Cloud", owner=ray, contact="Zhang Wei")
        alan_id = alan.id
    core = Core(engine, settings, secret=b"both", clock=clock, channels={"slack": "CSERVICE"},
                bot_names={"telegram": "crm_test_bot"})
    sfake, tfake = FakeSlack(TOKEN).start(), FakeTelegram().start()
    sender = shared_sender(core)  # the process's one sender, as `crm-bot run all` assembles it
    sbot = SlackBot(core, token=TOKEN, signing_secret=SECRET, api_url=sfake.api_url)
    sender.transports["slack"] = sbot.transport
    server = add_slack(WebServer(host="127.0.0.1", port=0), sbot)
    server.start()
    tbot = TelegramBot(core, token=tfake.token, api_url=tfake.root, limits=FAST, poll_timeout=1.0, sender=sender)
    runner = BotThread(tbot).start()
    sender.start(interval=3600.0)  # woken by the core's commits only
    yield core, sfake, SlackPlatform(server.url + "/slack/events", SECRET, sfake), tfake, alan_id, sender
    runner.stop()
    sender.stop()
    server.stop()
    sfake.stop()
    tfake.stop()
    engine.dispose()


def invite_token(core: Core) -> str:
    with session_scope(core.engine) as s:
        ctx = core.context(s, Inbound(platform="slack", user_ref="URAY", chat_ref="DRAY"), core.clock())
        r = create_invite(ctx, s.scalars(select(Customer)).first(), None)
    return re.search(r"start[= ]([A-Za-z0-9_-]+)", "\n".join(getattr(v, "text", "") for v in r.views)).group(1)


def test_telegram_customer_slack_staff_one_process(world) -> None:
    core, sfake, slack, tg, alan_id, sender = world
    assert set(sender.transports) == {"slack", "telegram"}
    tg.push_message(chat_id=CUST, user_id=CUST, text=f"/start {invite_token(core)}", lang="zh")
    tg.wait_sent(CUST)
    tg.push_message(chat_id=CUST, user_id=CUST, text="Nobody can log in <since 9am>", lang="zh")
    [kind] = tg.wait_sent(CUST, after=1)
    tg.press(kind, "投诉")
    [prio] = tg.wait_sent(CUST, after=2)
    tg.press(prio, "紧急")
    [created] = tg.wait_sent(CUST, after=3)
    assert "FW2026001" in plain(created)

    # the Slack service channel gets the post; Sue (Slack) assigns Alan with the button
    post = posted(sfake, "CSERVICE")
    assert "FW2026001" in texts(post) and "since 9am" in texts(post)
    n_post = len(sfake.calls_to("chat.postMessage"))
    slack.press_cmd(post, f"/ticket assign FW2026001 {alan_id}", user="USUE")
    dm = posted(sfake, "UALAN", n_post)
    assert {"/ticket accept FW2026001", "/ticket resolve FW2026001"} <= set(commands(dm.blocks))

    # Alan accepts and resolves on Slack (the resolution in a modal)
    n_resp = len(sfake.calls_to("response_url"))
    slack.press_cmd(dm, "/ticket accept FW2026001", user="UALAN")
    sfake.wait("response_url", n_resp + 1)
    n_open = len(sfake.calls_to("views.open"))
    slack.press_cmd(dm, "/ticket resolve FW2026001", user="UALAN")
    form = sfake.wait("views.open", n_open + 1)[-1]
    field = next(b["block_id"] for b in form.args["view"]["blocks"]
                 if b["type"] == "input" and not b["element"].get("initial_value"))
    assert slack.submit(form, {field: "Renewed the SSO certificate"}, user="UALAN").status == 200

    # the customer confirms on Telegram and the rating question arrives there
    [solved] = tg.wait_for(lambda: [c for c in tg.sent(CUST)[4:] if "SSO" in plain(c) and c.buttons])
    n = len(tg.sent(CUST))
    tg.press(solved, "确认")
    [rate] = tg.wait_for(lambda: [c for c in tg.sent(CUST)[n:] if len(c.buttons) >= 5])
    five = next(b for b in rate.buttons if "5" in b["text"])
    n = len(tg.sent(CUST))
    tg.push_callback(chat_id=CUST, user_id=CUST, data=five["callback_data"], message_id=rate.result["message_id"])
    tg.wait_sent(CUST, after=n)
    with session_scope(core.engine) as s:
        t = s.scalars(select(Ticket)).one()
        assert (t.status, t.rating, t.assignee_id) == ("closed", 5, alan_id)
    assert sfake.problems == []
    assert not [c for c in tg.calls_of("sendMessage") if str(c["chat_id"]) in ("UALAN", "USUE", "CSERVICE")]
