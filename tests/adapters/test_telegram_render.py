"""The Telegram renderer and helpers, without a network: escaping, splitting, keyboards, URLs, limits."""

from __future__ import annotations

import asyncio
import html
import re

import pytest

from bot.telegram import render as tr
from bot.telegram.app import api_urls
from bot.telegram.inbound import addressed_elsewhere
from bot.telegram.limiter import BULK, Limiter, Limits
from handlers import actions
from handlers.views import (
    Action,
    Button,
    Buttons,
    Confirm,
    Error,
    Fields,
    Form,
    Header,
    ListItem,
    ListPage,
    Option,
    Reply,
    Select,
    Text,
    reply,
)

SECRET = b"s" * 32


def sign(cmd: str) -> str:
    return actions.encode(cmd, scope="c:-1001234567890", secret=SECRET)


def unescape_len(s: str) -> int:
    """Length after Telegram's HTML parsing: tags dropped, entities one character."""
    return len(html.unescape(re.sub(r"</?(b|i)>", "", s)))


def test_render_escapes_every_user_text() -> None:
    evil = "<script>alert(1)</script> & <b>x</b>"
    r = reply(Header(evil), Text(evil), Text(evil, muted=True), Error(evil), Fields(((evil, evil),)),
              Confirm(evil, Button(evil, Action("/yes")), Button("no", Action("/no"))),
              Select(evil, (Option(evil, Action("/o"), description=evil),)),
              ListPage(evil, (ListItem(evil, detail=evil),)))
    [out] = tr.render(r, sign=sign)
    assert "<script>" not in out.text and "<b>x</b>" not in out.text
    assert "&lt;script&gt;" in out.text and "&amp;" in out.text
    assert re.sub(r"&(lt|gt|amp);", "", re.sub(r"</?(b|i)>", "", out.text)).count("<") == 0
    assert out.rows[0][0].label == evil  # button labels are plain text on Telegram: not escaped


def test_render_splits_long_text_cleanly_under_4096() -> None:
    text = "\n".join(f"{i:05d} a & b <c> " + "word " * 12 for i in range(400))
    outs = tr.render(reply(Header("Report"), Text(text)), sign=sign)
    assert len(outs) > 1
    assert all(len(o.text) <= tr.MAX_TEXT for o in outs)
    back = "\n".join(html.unescape(o.text.replace("<b>", "").replace("</b>", "")) for o in outs)
    assert back.split() == ("Report\n" + text).split()  # nothing lost
    assert all(re.match(r"\d{5} a", o.text) for o in outs[1:])  # cut between lines


def test_render_counts_emoji_as_telegram_does() -> None:
    text = "🚨" * 5000  # two UTF-16 units each: 10000 units
    outs = tr.render(reply(Text(text)), sign=sign)
    assert all(len(o.text.encode("utf-16-le")) // 2 <= tr.MAX_TEXT for o in outs)
    assert "".join(o.text for o in outs) == text and len(outs) == 3


def test_render_cuts_one_overlong_line_on_words() -> None:
    text = ("&" * 10 + " ") * 900  # escapes to 5x its length
    outs = tr.render(reply(Text(text)), sign=sign)
    assert all(len(o.text) <= tr.MAX_TEXT for o in outs)
    assert "".join(html.unescape(o.text).replace(" ", "") for o in outs) == text.replace(" ", "")
    assert all(not re.search(r"&[a-z]*$", o.text) for o in outs)  # never cut inside an entity


def test_render_big_list_keeps_item_buttons_with_items() -> None:
    items = tuple(ListItem(f"Item {i}", detail="d" * 40, buttons=(Button("Open", Action(f"/t open {i}")),))
                  for i in range(300))
    outs = tr.render(reply(ListPage("All", items, page=1, pages=3, total=900, next=Action("/t p2"))), sign=sign)
    assert len(outs) >= 3
    keys = [k for o in outs for row in o.rows for k in row]
    assert len(keys) == 301
    for o in outs:
        assert len(o.text) <= tr.MAX_TEXT
        assert sum(len(r) for r in o.rows) <= tr.MAX_BUTTONS
        assert all(len(r) <= tr.MAX_ROW for r in o.rows)
        numbers = {int(k.label.split(" ")[0]) for row in o.rows for k in row if k.label[0].isdigit()}
        assert all(re.search(rf"(^|\n){n}\. Item", o.text) for n in numbers)
    assert actions.decode(outs[-1].rows[-1][-1].data, scopes=["c:-1001234567890"], secret=SECRET) == "/t p2"


def test_render_buttons_rows_and_callback_limit() -> None:
    btns = tuple(Button(f"B{i}", Action(f"/x {i}")) for i in range(20))
    [out] = tr.render(reply(Text("pick"), Buttons(btns)), sign=sign)
    assert all(len(r) <= tr.MAX_ROW for r in out.rows)
    assert sum(len(r) for r in out.rows) == 20
    assert all(len(k.data.encode()) <= tr.MAX_CALLBACK for r in out.rows for k in r)
    with pytest.raises(ValueError):
        tr.render(reply(Buttons((Button("x", Action("/x")),))), sign=lambda cmd: "y" * 65)


def test_render_buttons_only_and_form_and_empty() -> None:
    [out] = tr.render(reply(Buttons((Button("a", Action("/a")),))), sign=sign)
    assert out.text and out.rows
    [form] = tr.render(reply(Form("d", "Title <x>", "Save", ())), sign=sign)
    assert form.text == "<b>Title &lt;x&gt;</b>"
    assert tr.render(Reply(), sign=sign) == []
    [fallback] = tr.render(Reply(text="just text & more"), sign=sign)
    assert fallback.text == "just text &amp; more"


def test_alert_text_only_for_pure_errors() -> None:
    assert tr.alert_text(reply(Error("nope"))) == "nope"
    assert tr.alert_text(reply(Error("nope"), Text("more"))) is None
    assert tr.alert_text(Reply()) is None


def test_every_view_type_has_a_renderer() -> None:
    import typing

    from handlers import views

    for cls in typing.get_args(views.View):
        assert tr.render_view.dispatch(cls) is not tr.render_view.dispatch(object), cls


@pytest.mark.parametrize("url, base", [
    ("", "https://api.telegram.org/bot"),
    ("https://api.telegram.org", "https://api.telegram.org/bot"),
    ("http://host:8081/", "http://host:8081/bot"),
    ("http://host:8081/bot", "http://host:8081/bot"),
    ("http://host:8081/bot/", "http://host:8081/bot"),
])
def test_api_urls_accepts_root_or_bot_suffix(url: str, base: str) -> None:
    b, f = api_urls(url)
    assert b == base
    assert f == base.removesuffix("/bot") + "/file/bot"


def test_commands_for_other_bots_are_ignored() -> None:
    assert addressed_elsewhere("/help@other_bot", "crm_test_bot")
    assert not addressed_elsewhere("/help@CRM_test_bot x", "crm_test_bot")
    assert not addressed_elsewhere("/help", "crm_test_bot")
    assert not addressed_elsewhere("hello@there", "crm_test_bot")


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


def test_limiter_paces_per_chat_group_and_overall() -> None:
    ft = FakeTime()
    lim = Limiter(Limits(chat_per_s=1, chat_burst=3, group_per_min=20, group_burst=5, overall_per_s=30,
                         overall_burst=30), clock=ft, sleep=ft.sleep)
    assert [lim.delay_for(42) for _ in range(3)] == [0, 0, 0]
    assert lim.delay_for(42) == pytest.approx(1.0)  # the 4th message to one chat waits for its slot
    assert lim.delay_for(43) == 0  # another chat is not held up
    delays = [lim.delay_for(-100123) for _ in range(6)]
    assert delays[:3] == [0, 0, 0] and delays[5] == pytest.approx(3 * 1.0)  # per-chat slot beats group
    replies = [lim.delay_for(i) for i in range(1000, 1040)]
    assert max(replies) == 0  # replies to 40 people at once: each in its own chat's limit, none waits
    many = [lim.delay_for(i, bulk=True) for i in range(2000, 2040)]
    assert max(many) > 0 and many[:30] == [0] * 30  # a broadcast: ~30/s overall
    assert lim.delay_for(3000) == 0  # a reply does not queue behind the broadcast


def test_limiter_bulk_requests_share_the_overall_limit() -> None:
    ft = FakeTime()
    lim = Limiter(Limits(overall_per_s=30, overall_burst=30), clock=ft, sleep=ft.sleep)

    async def ok() -> str:
        return "ok"

    async def send(chat: int, rl: str | None) -> str:
        return await lim.process_request(ok, (), {}, "sendMessage", {"chat_id": chat}, rl)

    for chat in range(60):
        assert asyncio.run(send(chat, BULK)) == "ok"
    assert sum(ft.slept) == pytest.approx(1.0)  # 60 broadcasts: 30 at once, 30 more over a second
    ft.slept.clear()
    for chat in range(100, 160):
        asyncio.run(send(chat, None))
    assert ft.slept == []


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_limiter_waits_out_retry_after_then_gives_up() -> None:
    from telegram.error import RetryAfter

    ft = FakeTime()
    lim = Limiter(Limits(max_retries=1), clock=ft, sleep=ft.sleep)
    calls = []

    async def flaky(fail: int) -> str:
        calls.append(1)
        if len(calls) <= fail:
            raise RetryAfter(2)
        return "ok"

    assert asyncio.run(lim.process_request(flaky, (1,), {}, "sendMessage", {"chat_id": 1}, None)) == "ok"
    assert len(calls) == 2 and 2.0 in ft.slept
    calls.clear()
    with pytest.raises(RetryAfter):
        asyncio.run(lim.process_request(flaky, (5,), {}, "sendMessage", {"chat_id": 1}, None))
    calls.clear()
    assert asyncio.run(lim.process_request(flaky, (0,), {}, "getUpdates", {}, None)) == "ok"


def test_limiter_tries_a_server_error_again_in_place_but_not_a_timeout_or_bad_request() -> None:
    from telegram.error import BadRequest, NetworkError, TimedOut

    ft = FakeTime()
    lim = Limiter(Limits(), clock=ft, sleep=ft.sleep)
    calls = []

    async def flaky(error: Exception, fail: int) -> str:
        calls.append(1)
        if len(calls) <= fail:
            raise error
        return "ok"

    def run(error: Exception, fail: int) -> str:
        calls.clear()
        return asyncio.run(lim.process_request(flaky, (error, fail), {}, "sendMessage", {"chat_id": 1}, None))

    assert run(NetworkError("Internal Server Error (500)"), 2) == "ok" and len(calls) == 3
    assert ft.slept[-2:] == [0.5, 1.0]
    with pytest.raises(NetworkError):
        run(NetworkError("Bad Gateway"), 3)
    for error in (TimedOut(), BadRequest("chat not found")):  # may have been delivered / will never work
        with pytest.raises(type(error)):
            run(error, 1)
        assert len(calls) == 1
