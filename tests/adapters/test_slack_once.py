"""Every Slack request takes effect once: the same signed request sent again within Slack's 5-minute window (a
replay, or Slack retrying with X-Slack-Retry-Num) is answered "already done" and changes nothing."""
# ruff: noqa: F811 - the shared fixtures are imported by name (tests/fakes/slack_fixtures.py)

from __future__ import annotations

import json

from sqlmodel import select

from bot.slack.app import ClickGuard
from handlers.i18n import t
from storage.db import session_scope
from storage.models import FollowUp
from tests import factories as f
from tests.fakes.slack_fixtures import slack  # noqa: F401
from tests.fakes.slack_testkit import t_count, testkit  # noqa: F401

RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


def shown(call) -> str:  # noqa: ANN001
    return json.dumps(call.blocks, ensure_ascii=False) + str(call.args.get("text", ""))


def test_slack_replayed_log_command_logs_one_followup(slack):
    with session_scope(slack.engine) as s:
        ray = f.staff(s, name="ray", role="rep", slack_id="URAY", lang="zh")
        code = f.customer(s, name="Acme Cloud", owner=ray).code
    assert slack.slack.command("/log", f"{code} phone: renewal talk", user="URAY").status == 200
    first = slack.fake.wait("response_url")[0]
    assert slack.slack.replay().status == 200
    assert slack.slack.replay(-2, headers=RETRY).status == 200  # the same bytes again, as a Slack retry
    answers = slack.fake.wait("response_url", 3)
    with session_scope(slack.engine) as s:
        assert len(s.scalars(select(FollowUp)).all()) == 1
    assert t("zh", "router.already_done") not in shown(first)
    for again in answers[1:]:
        assert t("zh", "router.already_done") in shown(again)
        assert again.args["response_type"] == "ephemeral"
    assert slack.fake.problems == []


def test_slack_replayed_button_press_acts_once_even_after_a_restart(slack, testkit):
    slack.staff("alice", slack_id="U1")
    slack.slack.command("/t_notify", "hello", user="U1")
    slack.fake.wait("response_url")
    slack.drain()
    post = slack.fake.wait("chat.postMessage")[0]
    slack.slack.press(post, "Take", user="U1", channel="CSERVICE")
    slack.fake.wait("chat.update")
    n = len(slack.fake.calls_to("response_url"))
    slack.slack.replay()
    slack.bot.clicks = ClickGuard()  # a restart (or another instance) forgets recent clicks; the database does not
    slack.slack.replay(headers=RETRY)
    answers = slack.fake.wait("response_url", n + 2)[n:]
    assert t_count(slack.engine, "t_take") == 1
    assert len(slack.fake.calls_to("chat.update")) == 1  # the post is not rewritten
    assert all(t("en", "router.already_done") in shown(a) and a.args["replace_original"] is False for a in answers)


def test_slack_replayed_view_submission_saves_once(slack, testkit):
    slack.staff("alice", slack_id="U1")
    slack.slack.command("/t_form", user="U1", channel="C7")
    opened = slack.fake.wait("views.open")[0]
    good = slack.slack.submit(opened, {"name": "Acme", "priority": "high"}, user="U1")
    assert good.json()["response_action"] == "update"
    again = slack.slack.replay()
    assert t_count(slack.engine) == 1
    assert again.json()["response_action"] == "update"
    assert t("en", "router.already_done") in json.dumps(again.json()["view"]["blocks"])


def test_slack_replayed_shortcut_opens_the_dialog_once(slack):
    with session_scope(slack.engine) as s:
        ray = f.staff(s, name="ray", role="rep", slack_id="URAY")
        code = f.customer(s, name="Acme Cloud", owner=ray).code
    slack.slack.shortcut("log_as_followup", f"Talked to {code}", user="URAY")
    form = slack.fake.wait("views.open")[0]
    assert form.args["view"]["blocks"][0]["type"] == "input"
    slack.slack.replay(headers=RETRY)
    again = slack.fake.wait("views.open", 2)[1]
    assert t("en", "router.already_done") in shown(again)
