"""/approvals through Slack: the list's Approve button is a signed action that decides the request."""
# ruff: noqa: F811 - the shared fixtures are imported by name (tests/fakes/slack_fixtures.py)

from __future__ import annotations

import json

from sqlmodel import select

from bot.console.driver import ConsoleSession
from handlers.i18n import t
from storage.db import session_scope
from storage.models import ApprovalRequest, Customer
from tests import factories as f
from tests.fakes.slack_fixtures import slack  # noqa: F401


def texts(call) -> str:  # noqa: ANN001
    return json.dumps(call.blocks, ensure_ascii=False)


def test_slack_approvals_lists_and_the_approve_button_works(slack):
    mary = slack.staff("mary", slack_id="UMARY", role="manager", team="east")
    with session_scope(slack.engine) as s:
        alice = f.staff(s, name="alice", role="rep", team="east", manager=s.merge(mary))
        code = f.customer(s, name="Deal Corp", owner=alice, type="deal", phone="13800000001").code
    ConsoleSession(slack.core, user="alice").send(f'/customer edit {code} name="Deal Corp Renamed"')
    assert slack.slack.command("/approvals", user="UMARY").status == 200
    listing = slack.fake.wait("response_url")[0]
    assert t("en", "appr.list.title") in texts(listing) and "Deal Corp → Deal Corp Renamed" in texts(listing)
    slack.slack.press(listing, t("en", "appr.approve"), user="UMARY")
    done = slack.fake.wait("response_url", 2)[1]
    assert t("en", "appr.done_approved", code=code, name="Deal Corp Renamed") in texts(done)
    with session_scope(slack.engine) as s:
        assert s.scalar(select(ApprovalRequest.status)) == "approved"
        assert s.scalar(select(Customer.name)) == "Deal Corp Renamed"
    assert slack.fake.problems == []
