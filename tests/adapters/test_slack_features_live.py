"""The real features through Slack: the follow-up list's Done/Snooze and page buttons update the message in
place; the App Home shows open opportunities only and refreshes after a press in it."""
# ruff: noqa: F811 - the shared fixtures are imported by name (tests/fakes/slack_fixtures.py)

from __future__ import annotations

import json

from handlers.i18n import t
from storage.db import session_scope
from tests import factories as f
from tests.fakes.slack_api import commands
from tests.fakes.slack_fixtures import slack  # noqa: F401


def texts(call) -> str:  # noqa: ANN001
    return json.dumps(call.blocks, ensure_ascii=False)


def _rep_with_followups(env, n: int) -> list[str]:  # noqa: ANN001
    with session_scope(env.engine) as s:
        ray = f.staff(s, name="ray", role="rep", slack_id="URAY")
        codes = [f.customer(s, name=f"Acme {i}", owner=ray).code for i in range(n)]
    for i, code in enumerate(codes):
        env.slack.command("/log", f"{code} phone: call {i} next: in {i + 1} days", user="URAY")
        env.fake.wait("response_url", i + 1)
    env.fake.clear()
    return codes


def test_slack_followup_list_done_and_snooze_update_the_list_in_place(slack):
    codes = _rep_with_followups(slack, 2)
    slack.slack.command("/followups", user="URAY", channel="C1")
    first = slack.fake.wait("response_url")[0]
    done = next(c for c in commands(first.blocks) if c.startswith("/followups done"))
    slack.slack.press_cmd(first, done, user="URAY")
    second = slack.fake.wait("response_url", 2)[1]
    assert second.args["replace_original"] is True  # the ephemeral list is replaced, not answered below
    assert t("en", "fu.done", code=codes[0], name="Acme 0") in texts(second)
    assert not any(c.startswith(done) for c in commands(second.blocks))  # its buttons are gone
    snooze = next(c for c in commands(second.blocks) if c.startswith("/followups snooze") and c.endswith("1w"))
    slack.slack.press_cmd(second, snooze, user="URAY")
    third = slack.fake.wait("response_url", 3)[2]
    assert third.args["replace_original"] is True and codes[1] in texts(third)
    assert slack.fake.problems == []


def test_slack_list_page_buttons_turn_the_page_in_place(slack):
    _rep_with_followups(slack, 7)
    slack.slack.command("/followups", user="URAY", channel="C1")
    first = slack.fake.wait("response_url")[0]
    slack.slack.press(first, t("en", "list.next"), user="URAY")
    second = slack.fake.wait("response_url", 2)[1]
    assert second.args["replace_original"] is True
    assert t("en", "list.page", page=2, pages=2, total=7) in texts(second)
    assert slack.fake.problems == []


def test_slack_home_shows_open_opportunities_and_refreshes_after_done(slack):
    codes = _rep_with_followups(slack, 3)
    for i, (code, name) in enumerate(zip(codes, ("Open deal", "Lost deal", "Later deal"), strict=True)):
        slack.slack.command("/opp", f"add {code} {name} amount=1000 close=2026-12-20", user="URAY")
        slack.fake.wait("response_url", i + 1)
    slack.slack.command("/opp", f"stage {codes[1]}OP01 lost reason=price too high", user="URAY")
    slack.slack.command("/opp", f"stage {codes[2]}OP01 needs analysis done", user="URAY")
    slack.fake.wait("response_url", 5)
    slack.slack.event({"type": "app_home_opened", "user": "URAY", "channel": "DRAY", "tab": "home"})
    home = slack.fake.wait("views.publish")[0]
    shown = texts(home)
    assert "Lost deal" not in shown  # open ones only, by stage (the newer one is further on)
    assert shown.index("Open deal") < shown.index("Later deal")
    done = next(c for c in commands(home.blocks) if c.startswith("/followups done"))
    slack.slack.press_cmd(home, done, user="URAY")
    again = slack.fake.wait("views.publish", 2)[1]  # the Home itself is refreshed, no modal on top
    assert not any(c.startswith(done) for c in commands(again.blocks))
    assert slack.fake.calls_to("views.open") == []
    assert slack.fake.problems == []


def test_slack_home_shows_a_reps_open_tickets_of_their_customers(slack):
    codes = _rep_with_followups(slack, 2)
    with session_scope(slack.engine) as s:
        f.staff(s, name="bob", role="rep", slack_id="UBOB")
    slack.slack.command("/ticket", f"new {codes[0]} complaint low: printer jams", user="URAY")
    slack.fake.wait("response_url")
    for user in ("URAY", "UBOB"):
        slack.slack.event({"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"})
    homes = {c.args["user_id"]: texts(c) for c in slack.fake.wait("views.publish", 2)}
    assert t("en", "tk.queue.open") in homes["URAY"] and "printer jams" in homes["URAY"]
    assert "printer jams" not in homes["UBOB"]  # not his customer
    assert slack.fake.problems == []
