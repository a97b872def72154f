"""A low rating on Slack: the service channel is alerted at once, saying the comment may still come, and the same
post is updated in place (chat.update) when the customer submits the comment modal."""
# ruff: noqa: F811 - the shared fixtures are imported by name (tests/fakes/slack_fixtures.py)

from __future__ import annotations

import json

from sqlmodel import select

from handlers.i18n import t
from storage.db import session_scope
from storage.models import ChatBinding, Contact, Ticket
from tests import factories as f
from tests.fakes.slack_fixtures import SERVICE_CHANNEL, slack  # noqa: F401

CUST = "CCUST"
CODE = "FW2026001"


def closed_ticket(env) -> None:  # noqa: ANN001
    now = env.core.clock()
    with session_scope(env.engine) as s:
        alan = f.staff(s, name="alan", role="agent", team="service", slack_id="UALAN")
        c = f.customer(s, name="Acme Cloud", contact="Zhang Wei")
        contact = s.scalar(select(Contact).where(Contact.customer_id == c.id))
        s.add(ChatBinding(platform="slack", chat_ref=CUST, user_ref="UEXT", customer_id=c.id,
                          contact_id=contact.id, lang="en", created_at=now))
        s.add(Ticket(code=CODE, customer_id=c.id, contact_id=contact.id, description="logins fail",
                     type="complaint", priority="high", status="closed", assignee_id=alan.id,
                     resolution="renewed the certificate", created_at=now, updated_at=now, resolved_at=now,
                     closed_at=now, rating_requested_at=now))


def test_low_rating_post_is_updated_when_the_comment_arrives(slack) -> None:
    env = slack
    closed_ticket(env)
    before, after = t("en", "rate.comment_pending", until="\0").split("\0")
    env.slack.command("/rate", f"{CODE} 1", user="UEXT", channel=CUST)
    comment = env.fake.wait("views.open")[-1]  # the optional comment, as a modal
    assert env.drain() == 1
    [post] = [c for c in env.fake.calls_to("chat.postMessage") if c.args["channel"] == SERVICE_CHANNEL]
    shown = json.dumps(post.blocks, ensure_ascii=False) + post.args["text"]
    assert CODE in shown and "1/5" in shown and before in shown and after in shown

    env.slack.submit(comment, {"comment": "Nobody <!channel> called back"}, user="UEXT")
    assert env.drain() == 1
    [upd] = env.fake.calls_to("chat.update")
    shown = json.dumps(upd.blocks, ensure_ascii=False) + upd.args["text"]
    assert upd.args["ts"] == post.result["ts"] and upd.args["channel"] == SERVICE_CHANNEL
    assert "Nobody &lt;!channel&gt; called back" in shown and before not in shown
    assert env.fake.problems == []
