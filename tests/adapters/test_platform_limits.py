"""The fakes refuse what the real APIs refuse (the limits in tests/fakes/telegram_limits.py and slack_blocks.py),
and hostile replies rendered by our adapters get through them untouched by a 400."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from bot.telegram import render as tr
from handlers import actions
from handlers.views import Action, Button, Buttons, Fields, Header, Option, Reply, Select, Text
from tests.fakes import slack_blocks
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CHAT = 1003


@pytest.fixture
def fake():
    f = FakeTelegram().start()
    yield f
    f.stop()


def _send(fake: FakeTelegram, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    async def go() -> None:
        async with Bot(fake.token, base_url=f"{fake.root}/bot") as bot:
            await bot.send_message(CHAT, text, parse_mode="HTML", reply_markup=markup)

    asyncio.run(go())


@pytest.mark.parametrize(("text", "markup", "why"), [
    ("x" * 4097, None, "too long"),
    ("🚨" * 2049, None, "too long"),  # 4098 UTF-16 units
    ("<b>" + "x" * 4096 + "</b>", None, None),  # tags do not count: fits
    ("   \n ", None, "empty"),
    ("<b>bold", None, "unclosed"),
    ("a < b", None, "bare"),
    ("<script>x</script>", None, "unsupported"),
    ("ok", InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="x" * 65)]]), "BUTTON_DATA_INVALID"),
    ("ok", InlineKeyboardMarkup([[InlineKeyboardButton(" ", callback_data="x")]]), "BUTTON_TEXT_EMPTY"),
    ("ok", InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="x")] * 9]), "row"),
    ("ok", InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="x")]] * 101), "too long"),
])
def test_fake_telegram_refuses_what_telegram_refuses(fake, text, markup, why) -> None:
    if why is None:
        _send(fake, text, markup)
        assert fake.problems == []
        return
    with pytest.raises(BadRequest, match=f"(?i){why}"):
        _send(fake, text, markup)
    assert fake.problems and not fake.sent(CHAT)


def test_hostile_reply_renders_and_is_accepted_by_the_fake(fake) -> None:
    evil = "<!channel> <b>x</i> & \ud800 " + "🚨" * 3000
    reply = Reply(views=(Header(evil), Text(""), Text(evil), Fields(((evil, evil),)),
                         Buttons(tuple(Button(evil, Action(f"/x {i}")) for i in range(130))),
                         Select(evil, tuple(Option(evil, Action(f"/o {i}")) for i in range(120)))))
    outs = tr.render(reply, sign=lambda cmd: actions.encode(cmd, scope=f"c:{CHAT}", secret=b"s" * 32))
    for o in outs:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(k.label, callback_data=k.data) for k in row]
                                       for row in o.rows]) if o.rows else None
        _send(fake, o.text, markup)
    assert fake.problems == [] and len(fake.sent(CHAT)) == len(outs) > 3


def test_slack_validator_refuses_lone_surrogates() -> None:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": "a\udc00"}}
    assert slack_blocks.message_problems({"text": "ok", "blocks": [block]})
    assert slack_blocks.message_problems({"text": "\ud800"})
    assert slack_blocks.view_problems({"type": "modal", "title": {"type": "plain_text", "text": "\ud800x"},
                                       "blocks": [block]})
