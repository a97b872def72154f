"""Property-based tests: any neutral view renders within the platform's limits (or to nothing), never raises.

The validators are the fakes' own (tests/fakes/telegram_limits.py, tests/fakes/slack_blocks.py), written from
the platforms' documentation, not from the renderers. CI runs a fixed seed with modest example counts;
`CRM_FUZZ_EXAMPLES=2000` runs a longer random search.
"""

from __future__ import annotations

from hypothesis import example, given

from bot.slack import render as sr
from bot.slack import surfaces
from bot.telegram import render as tr
from handlers import actions
from handlers.views import Action, Button, Buttons, Form, Header, Reply, Text
from tests.adapters.view_strategies import forms, fuzz_settings, replies
from tests.fakes import slack_blocks, telegram_limits

SECRET = b"s" * 32


def tg_sign(cmd: str) -> str:
    return actions.encode(cmd, scope="c:-1001234567890", secret=SECRET)


def slack_sign(a: Action) -> str:
    return actions.encode(a.cmd, scope="c:C0123456789", secret=SECRET)


def stash(blocks: list[dict]) -> str:
    return "k" * 40


def telegram_problems(reply: Reply) -> list[str]:
    p: list[str] = []
    for i, o in enumerate(tr.render(reply, sign=tg_sign, lang="zh")):
        markup = {"inline_keyboard": o.keyboard} if o.rows else None
        p += [f"message {i}: {x}" for x in telegram_limits.message_problems(
            {"text": o.text, "parse_mode": "HTML", "reply_markup": markup})]
    return p + telegram_limits.alert_problems(tr.alert_text(reply))


# found by longer runs (CRM_FUZZ_EXAMPLES), kept as fixed examples
EDGES = (Reply(text="\ud800"), Reply(views=(Text(""), Header(" \n"))),
         Reply(views=(Buttons((Button("\ud800", Action("/x")),)),)))


@fuzz_settings(200)
@given(replies)
@example(EDGES[0])
@example(EDGES[1])
@example(EDGES[2])
def test_telegram_renders_within_limits(reply: Reply) -> None:
    assert telegram_problems(reply) == []


@fuzz_settings(100)
@given(replies)
@example(EDGES[0])
@example(EDGES[1])
@example(EDGES[2])
def test_slack_message_within_limits(reply: Reply) -> None:
    for st in (stash, None):
        msg = sr.message(reply, sign=slack_sign, lang="en", stash=st)
        assert slack_blocks.message_problems(msg) == []


@fuzz_settings(100)
@given(replies)
def test_slack_views_within_limits(reply: Reply) -> None:
    modal = surfaces.reply_modal(reply, sign=slack_sign, lang="zh", channel="C1", stash=stash)
    assert slack_blocks.view_problems(modal) == []
    home = surfaces.home_view([reply, reply], sign=slack_sign, lang="en", stash=stash)
    assert slack_blocks.view_problems(home) == []


@fuzz_settings(100)
@given(forms)
def test_slack_form_modal_within_limits(form: Form) -> None:
    assert slack_blocks.view_problems(surfaces.form_modal(form, channel="C1", lang="en")) == []
