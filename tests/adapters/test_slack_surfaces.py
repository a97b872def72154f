"""The message shortcut, the App Home with feature sections, buttons inside modals and the Home."""
# ruff: noqa: F811 - the shared fixtures are imported by name (tests/fakes/slack_fixtures.py)

from __future__ import annotations

import json

import pytest

from handlers.dialogs import engine as dialogs
from tests.fakes.slack_api import labels
from tests.fakes.slack_fixtures import slack  # noqa: F401
from tests.fakes.slack_testkit import LOG_CALL, registered, testkit  # noqa: F401
from tests.says import lead, says


def texts(call) -> str:  # noqa: ANN001
    return json.dumps(call.blocks, ensure_ascii=False)


@pytest.fixture
def log_call():  # noqa: ANN201
    with registered(dialogs_=(LOG_CALL,)):
        yield dialogs.DIALOGS["log_call"]


def test_slack_shortcut_opens_log_call_prefilled(slack, log_call):
    slack.staff("alice", slack_id="U1")
    slack.slack.shortcut("log_as_followup", "Called ABC2026001 &amp; agreed &lt;next&gt; steps", user="U1")
    opened = slack.fake.wait("views.open")[0]
    view = opened.args["view"]
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert {"customer", "content"} <= set(blocks)
    assert blocks["customer"]["element"].get("initial_value") == "ABC2026001"
    assert blocks["content"]["element"]["initial_value"] == "Called ABC2026001 & agreed <next> steps"
    assert json.loads(view["private_metadata"])["d"] == "log_call"
    assert slack.fake.problems == []


def test_slack_shortcut_for_a_stranger_explains(slack, log_call):
    slack.slack.shortcut("log_as_followup", "hello", user="U404")
    opened = slack.fake.wait("views.open")[0]
    assert says(texts(opened), "slack.unknown_user", user="U404")


def test_slack_button_inside_a_modal_updates_that_modal(slack, testkit):
    slack.staff("alice", slack_id="U1")
    slack.slack.command("/t_form", user="U1")
    opened = slack.fake.wait("views.open")[0]
    done = slack.slack.submit(opened, {"name": "Acme", "priority": "low"}, user="U1").json()
    assert done["response_action"] == "update"
    # a button pressed inside a modal (here: "more") updates that modal in place
    slack.slack.command("/t_big", user="U1")
    big = slack.fake.wait("response_url")[0]
    slack.slack.press(big, lead("slack.more"), user="U1")
    first = slack.fake.wait("views.open", 2)[1]
    assert any(says(lab, "slack.more") for lab in labels(first.blocks))
    slack.slack.press(first, lead("slack.more"), user="U1")
    upd = slack.fake.wait("views.update")[0]
    assert upd.args["view_id"] == first.result["view"]["id"]
    assert slack.fake.problems == []


def test_slack_buttons_behind_more_keep_working(slack, testkit):
    slack.staff("alice", slack_id="U1")
    slack.slack.command("/t_big", user="U1", channel="C1")
    big = slack.fake.wait("response_url")[0]
    slack.slack.press(big, lead("slack.more"), user="U1", channel="C1")
    modal = slack.fake.wait("views.open")[0]
    done = next(lab for lab in labels(modal.blocks) if lab.startswith("Done"))
    slack.slack.press(modal, done, user="U1")
    upd = slack.fake.wait("views.update")[0]
    assert f"done {done.split()[1]}" in texts(upd)
    assert not says(texts(upd), "button.invalid")


def test_slack_home_sections_follow_the_role(slack):
    from handlers.i18n import t

    slack.staff("ray", slack_id="URAY", role="rep")
    slack.staff("sue", slack_id="USUE", role="supervisor")
    for user in ("URAY", "USUE"):
        slack.slack.event({"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"})
    homes = {c.args["user_id"]: texts(c) for c in slack.fake.wait("views.publish", 2)}
    queues = (t("en", "tk.queue.unassigned"), t("en", "tk.queue.breaching"))
    assert all(q in homes["USUE"] for q in queues)
    assert not any(q in homes["URAY"] for q in queues)
    assert t("en", "fu.list_title", total=0, overdue=0) in homes["URAY"]
    assert slack.fake.problems == []
