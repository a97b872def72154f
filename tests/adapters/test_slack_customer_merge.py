"""/customer merge through the real Slack app: the confirmation renders as valid Block Kit with Merge / Cancel,
and pressing Merge twice (a double click, or the same card pressed again later) merges once."""
# ruff: noqa: F811 - the shared fixtures are imported by name (tests/fakes/slack_fixtures.py)

from __future__ import annotations

import json

from sqlalchemy import func, select

from storage.db import session_scope
from storage.models import AuditLog, Customer
from tests import factories
from tests.fakes.slack_api import labels
from tests.fakes.slack_fixtures import slack  # noqa: F401
from tests.says import says


def texts(call) -> str:  # noqa: ANN001
    return json.dumps(call.blocks, ensure_ascii=False)


def test_slack_merge_confirms_then_merges_once(slack):
    mgr = slack.staff("david", slack_id="UM", role="manager", team="south")
    with session_scope(slack.engine) as s:
        rep = factories.staff(s, name="kevin", team="south", manager=s.merge(mgr), slack_id="UK")
        factories.customer(s, name="Hangzhou Cloud", owner=rep, contact="Zhou Ming")
        factories.customer(s, name="Hangzhou Cloud Co", owner=rep, contact="Li Lei")
    slack.slack.command("/customer", "merge ABC2026001 INTO ABC2026002", user="UM")
    card = slack.fake.wait("response_url")[0]
    assert says(texts(card), "merge.title", src="ABC2026001", dst="ABC2026002")
    assert {"Merge", "Cancel"} <= set(labels(card.blocks)) and slack.fake.problems == []
    slack.slack.press(card, "Merge", user="UM", action_ts="1700000001.000001")
    slack.slack.press(card, "Merge", user="UM", action_ts="1700000001.200002")  # a double click
    done = slack.fake.wait("response_url", 2)[1]
    assert says(texts(done), "merge.done", src="ABC2026001", dst="ABC2026002")
    slack.slack.press(card, "Merge", user="UM", action_ts="1700000099.000003")  # the card pressed again later
    again = slack.fake.wait("response_url", 3)[2]
    assert says(texts(again), "merge.err.done", src="ABC2026001", dst="ABC2026002")
    with session_scope(slack.engine) as s:
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.field == "merged_into")) == 1
        assert s.scalar(select(Customer.merged_into_id).where(Customer.code == "ABC2026001")) is not None
    assert slack.fake.problems == []
