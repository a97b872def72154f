"""Sales through Slack: log a call in one line, with `payload` and
`<`/`&` in the text; the shortcut opening the real log dialog; `/customer add` as a modal with field errors."""
# ruff: noqa: F811 - the shared fixtures are imported by name (tests/fakes/slack_fixtures.py)

from __future__ import annotations

import json

from sqlmodel import select

from storage.db import session_scope
from storage.models import FollowUp
from tests import factories as f
from tests.fakes.slack_fixtures import slack  # noqa: F401


def test_slack_log_a_call_in_one_line(slack):
    with session_scope(slack.engine) as s:
        ray = f.staff(s, name="ray", role="rep", slack_id="URAY")
        code = f.customer(s, name="Acme Cloud", owner=ray).code
    text = f"{code} phone positive: payload &lt;test&gt; R&amp;D budget 600k next: tomorrow 3pm"
    assert slack.slack.command("/log", text, user="URAY").status == 200
    reply = slack.fake.wait("response_url")[0]
    assert reply.args["response_type"] == "ephemeral"
    with session_scope(slack.engine) as s:
        fu = s.scalars(select(FollowUp)).one()
        assert fu.content.startswith("payload <test> R&D budget 600k")
        assert (fu.method, fu.feedback) == ("phone", "positive")
    shown = json.dumps(reply.blocks, ensure_ascii=False)
    assert "<test>" not in shown
    assert slack.fake.problems == []


def test_slack_shortcut_opens_the_real_log_dialog(slack):
    with session_scope(slack.engine) as s:
        ray = f.staff(s, name="ray", role="rep", slack_id="URAY")
        code = f.customer(s, name="Acme Cloud", owner=ray).code
    slack.slack.shortcut("log_as_followup", f"Talked to {code} about renewal", user="URAY")
    view = slack.fake.wait("views.open")[0].args["view"]
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["content"]["element"]["initial_value"] == f"Talked to {code} about renewal"
    assert slack.fake.problems == []


def test_slack_customer_add_modal_reports_field_errors_inline(slack):
    with session_scope(slack.engine) as s:
        f.staff(s, name="ray", role="rep", slack_id="URAY")
    slack.slack.command("/customer", "add", user="URAY")
    opened = slack.fake.wait("views.open")[0]
    inputs = [b["block_id"] for b in opened.args["view"]["blocks"] if b["type"] == "input"]
    assert inputs
    bad = slack.slack.submit(opened, {k: "" for k in inputs}, user="URAY").json()
    assert bad["response_action"] == "errors" and set(bad["errors"]) <= set(inputs) and bad["errors"]
    assert slack.fake.problems == []


def test_slack_shortcut_in_a_customers_channel_prefills_that_customer(slack):
    from storage.models import ChatBinding, Contact

    with session_scope(slack.engine) as s:
        ray = f.staff(s, name="ray", role="rep", slack_id="URAY")
        c = f.customer(s, name="Acme Cloud", owner=ray)
        code, contact = c.code, s.scalars(select(Contact).where(Contact.customer_id == c.id)).one()
        s.add(ChatBinding(platform="slack", chat_ref="CACME", customer_id=c.id, contact_id=contact.id, lang="en",
                          created_at=slack.core.clock()))
    slack.slack.shortcut("log_as_followup", "We need the invoice &amp; the contract", user="URAY", channel="CACME")
    view = slack.fake.wait("views.open")[0].args["view"]
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["customer"]["element"]["initial_value"] == code
    assert blocks["content"]["element"]["initial_value"] == "We need the invoice & the contract"
    res = slack.slack.submit(slack.fake.calls_to("views.open")[0], {"method": "email"}, user="URAY")
    assert res.status == 200 and res.json().get("response_action") == "update"
    with session_scope(slack.engine) as s:
        assert s.scalars(select(FollowUp)).one().content == "We need the invoice & the contract"
    assert slack.fake.problems == []
