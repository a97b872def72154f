"""The blocks behind Slack's "more" button are kept in the database: a restarted bot still shows them."""

# ruff: noqa: F811 - the shared fixtures are imported by name (tests/fakes/slack_fixtures.py)
from __future__ import annotations

from sqlmodel import select

from handlers.i18n import t
from storage.db import session_scope
from storage.models import ActionRef
from tests.fakes.slack_api import labels
from tests.fakes.slack_fixtures import make_env, slack  # noqa: F401
from tests.fakes.slack_testkit import testkit  # noqa: F401

SHOW_MORE = t("en", "slack.more", n=0).split("(")[0].strip()


def _texts(call) -> str:  # noqa: ANN001
    return str(call.blocks)


def test_more_button_still_works_after_a_restart(slack, testkit, tmp_path, settings, clock):
    slack.staff("alice", slack_id="U1")
    slack.slack.command("/t_big", user="U1")
    call = slack.fake.wait("response_url")[0]
    more = [lab for lab in labels(call.blocks) if lab.startswith(SHOW_MORE)]
    assert more
    with session_scope(slack.engine) as s:  # the hidden blocks are a row, not process memory
        assert len(s.exec(select(ActionRef).where(ActionRef.scope.startswith("slack.more:"))).all()) == 1
    restarted = make_env(tmp_path, settings, clock, engine=slack.engine)  # a new process on the same database
    try:
        restarted.slack.press(call, more[0], user="U1")
        modal = restarted.fake.wait("views.open")[0]
        assert "Customer" in _texts(modal)
        assert t("en", "slack.more_gone") not in _texts(modal)
        assert restarted.fake.problems == []
    finally:
        restarted.sender.stop()
        restarted.server.stop()
        restarted.fake.stop()


def test_a_forged_more_key_shows_that_the_content_is_gone(slack, testkit):
    slack.staff("alice", slack_id="U1")
    slack.slack.command("/t_big", user="U1")
    call = slack.fake.wait("response_url")[0]
    assert slack.core.kept("slack.more", "1.not-the-secret") is None
    assert slack.core.kept("slack.more", "1") is None
    [key] = [el["value"] for b in call.blocks if b.get("type") == "actions" for el in b["elements"]
             if el.get("action_id") == "crm_more"]
    assert slack.core.kept("slack.more", key) is not None
