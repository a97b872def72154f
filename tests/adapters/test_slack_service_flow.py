"""The service flow through Slack: a customer's shared channel →
high-priority complaint → channel post → Assign select → agent DM → resolve → rating buttons → csat report."""
# ruff: noqa: F811 - the shared fixtures are imported by name (tests/fakes/slack_fixtures.py)

from __future__ import annotations

import json
import re

from sqlmodel import select

from handlers.context import Inbound
from handlers.services import invites
from storage.db import session_scope
from storage.models import Customer, Ticket
from tests import factories as f
from tests.fakes.slack_api import commands
from tests.fakes.slack_fixtures import slack  # noqa: F401

CUST = "CCUST"


def texts(call) -> str:  # noqa: ANN001
    return json.dumps(call.blocks, ensure_ascii=False) + (call.args.get("text") or "")


def newest(env, method: str, n_before: int, channel: str | None = None):  # noqa: ANN001, ANN201
    calls = env.fake.wait(method, n_before + 1)[n_before:]
    calls = [c for c in calls if channel is None or c.args.get("channel") == channel]
    assert calls, f"no {method} to {channel}"
    return calls[-1]


def empty_field(view_call) -> str:  # noqa: ANN001
    """The first input of a modal that is not prefilled (the one the user has to type)."""
    return next(b["block_id"] for b in view_call.args["view"]["blocks"]
                if b["type"] == "input" and not b["element"].get("initial_value"))


def test_slack_service_flow_end_to_end(slack):
    env = slack
    with session_scope(env.engine) as s:
        ray = f.staff(s, name="ray", role="rep", slack_id="URAY")
        f.staff(s, name="sue", role="supervisor", team="service", slack_id="USUE")
        alan = f.staff(s, name="alan", role="agent", team="service", slack_id="UALAN")
        f.customer(s, name="Acme Cloud", owner=ray, contact="Zhang Wei")
        alan_id = alan.id
    with session_scope(env.engine) as s:
        ctx = env.core.context(s, Inbound(platform="slack", user_ref="URAY", chat_ref="DRAY"), env.core.clock())
        r = invites.create_invite(ctx, s.scalars(select(Customer)).first(), None)
    token = re.search(r"/start (\S+)", " ".join(getattr(v, "text", "") for v in r.views)).group(1)

    # the customer binds their shared channel by mentioning the bot, then writes plainly
    env.slack.event({"type": "app_mention", "user": "UEXT", "channel": CUST, "text": f"<@UBOT> /start {token}"})
    env.fake.wait("chat.postEphemeral")
    msg = {"type": "message", "channel_type": "channel", "channel": CUST, "user": "UEXT"}
    env.slack.event(dict(msg, text="The system rejects every login since 9am"))
    step = env.fake.wait("chat.postMessage")[0]
    assert step.args["channel"] == CUST
    env.slack.press_cmd(step, "complaint", user="UEXT")
    step2 = env.fake.wait("response_url")[-1]
    env.slack.press_cmd(step2, "high", user="UEXT", channel=CUST)
    done = env.fake.wait("response_url", 2)[-1]
    assert "FW2026001" in texts(done)

    # the supervisors' channel gets the post (the commit woke nobody here: drain), Sue assigns Alan by select
    env.drain()
    post = newest(env, "chat.postMessage", 1, "CSERVICE")
    assert "FW2026001" in texts(post) and "rejects every login" in texts(post)
    n_upd, n_post = len(env.fake.calls_to("chat.update")), len(env.fake.calls_to("chat.postMessage"))
    env.slack.press_cmd(post, f"/ticket assign FW2026001 {alan_id}", user="USUE")
    env.fake.wait("response_url", 3)
    env.drain()
    upd = newest(env, "chat.update", n_upd, "CSERVICE")
    assert upd.args["ts"] == post.result["ts"] and "alan" in texts(upd)
    dm = newest(env, "chat.postMessage", n_post, "UALAN")
    assert {"/ticket accept FW2026001", "/ticket resolve FW2026001"} <= set(commands(dm.blocks))

    # Alan accepts and resolves from his DM; the resolution is asked for in a modal
    env.slack.press_cmd(dm, "/ticket accept FW2026001", user="UALAN")
    env.fake.wait("response_url", 4)
    n_open = len(env.fake.calls_to("views.open"))
    env.slack.press_cmd(dm, "/ticket resolve FW2026001", user="UALAN")
    form = newest(env, "views.open", n_open)
    res = env.slack.submit(form, {empty_field(form): "Renewed the SSO certificate"}, user="UALAN")
    assert res.status == 200 and "errors" not in res.body

    # the customer confirms in their channel and gets the rating buttons
    n_post = len(env.fake.calls_to("chat.postMessage"))
    env.drain()
    resolved = newest(env, "chat.postMessage", n_post, CUST)
    assert "Renewed the SSO certificate" in texts(resolved)
    n_post, n_resp = len(env.fake.calls_to("chat.postMessage")), len(env.fake.calls_to("response_url"))
    env.slack.press_cmd(resolved, "/ticket confirm FW2026001", user="UEXT")
    env.fake.wait("response_url", n_resp + 1)  # the press is answered after its ack: then it is committed
    env.drain()
    rating = newest(env, "chat.postMessage", n_post, CUST)
    assert [c for c in commands(rating.blocks) if c.startswith("/rate")] == [
        f"/rate FW2026001 {n}" for n in range(1, 6)]
    n_open = len(env.fake.calls_to("views.open"))
    env.slack.press_cmd(rating, "/rate FW2026001 4", user="UEXT")
    comment = newest(env, "views.open", n_open)  # the optional comment opens as a modal
    env.slack.submit(comment, {empty_field(comment): "Fast and friendly"}, user="UEXT")
    with session_scope(env.engine) as s:
        t = s.scalars(select(Ticket)).one()
        assert (t.status, t.rating, t.rating_comment) == ("closed", 4, "Fast and friendly")

    n_resp = len(env.fake.calls_to("response_url"))
    env.slack.command("/report", "csat", user="USUE", channel="CSERVICE")
    report = newest(env, "response_url", n_resp)
    assert "alan" in texts(report) and "4.0" in texts(report)
    assert env.fake.problems == []
