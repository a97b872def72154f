"""Staff on Slack without typing Slack ids: a staff record with an email is linked to the Slack user with that
email when they first write (users.info → profile.email), or all at once with `crm-bot slack sync-staff`
(users.lookupByEmail) — through the real slack-bolt app and slack_sdk client against the fake Web API."""
# ruff: noqa: F811 - the shared fixtures are imported by name (tests/fakes/slack_fixtures.py)

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot import cli_slack_staff as sync_staff
from bot.cli import main
from handlers.i18n import t
from storage.db import session_scope
from storage.models import AuditLog, Staff
from tests.fakes.slack_api import TOKEN
from tests.fakes.slack_fixtures import slack  # noqa: F401
from tests.says import says


def texts(call) -> str:  # noqa: ANN001
    return json.dumps(call.blocks, ensure_ascii=False)


def staff_by_name(engine, name: str) -> Staff:
    with session_scope(engine) as s:
        return s.scalar(select(Staff).where(Staff.name == name))


def test_slack_first_message_links_the_staff_record_with_that_email(slack):
    slack.staff("lina", slack_id=None, email="li.na@example.com", lang="zh")
    slack.fake.add_user("U77", "Li.Na@Example.com", name="Li Na")
    slack.slack.command("/help", user="U77")
    call = slack.fake.wait("response_url")[0]
    assert says(texts(call), "slack.linked_by_email", lang="zh", name="lina")
    assert t("zh", "help.title") in texts(call)  # and the command itself ran, as lina
    lina = staff_by_name(slack.engine, "lina")
    assert lina.slack_id == "U77" and lina.notify == "slack"
    assert [c.args["user"] for c in slack.fake.calls_to("users.info")] == ["U77"]
    with session_scope(slack.engine) as s:
        entry = s.scalar(select(AuditLog).where(AuditLog.entity == "staff", AuditLog.field == "slack_id"))
        assert entry.entity_id == lina.id and entry.new.startswith("U77")
    slack.slack.command("/help", user="U77")  # known now: no more lookups, no second welcome
    second = slack.fake.wait("response_url", 2)[1]
    assert not says(texts(second), "slack.linked_by_email", lang="zh")
    assert len(slack.fake.calls_to("users.info")) == 1


def test_slack_unknown_email_still_asks_for_an_admin_and_is_not_looked_up_again_at_once(slack):
    slack.staff("lina", slack_id=None, email="li.na@example.com")
    slack.fake.add_user("U88", "stranger@example.com")
    slack.slack.command("/help", user="U88")
    assert t("en", "slack.unknown_user", user="U88") in texts(slack.fake.wait("response_url")[0])
    slack.slack.command("/help", user="U88")
    slack.fake.wait("response_url", 2)
    assert len(slack.fake.calls_to("users.info")) == 1  # the miss is remembered for a minute
    assert staff_by_name(slack.engine, "lina").slack_id is None


@pytest.mark.parametrize("kind", ["bot", "deleted", "no_email_scope"])
def test_slack_bots_deactivated_users_and_hidden_emails_are_not_linked(slack, kind):
    slack.staff("lina", slack_id=None, email="li.na@example.com")
    slack.fake.add_user("U99", None if kind == "no_email_scope" else "li.na@example.com",
                        is_bot=kind == "bot", deleted=kind == "deleted")
    slack.slack.command("/help", user="U99")
    assert t("en", "slack.unknown_user", user="U99") in texts(slack.fake.wait("response_url")[0])
    assert staff_by_name(slack.engine, "lina").slack_id is None


def test_slack_nobody_waiting_means_no_lookup(slack):
    slack.staff("alice", slack_id="U1", email="alice@example.com")  # linked already
    slack.slack.command("/help", user="U404")
    slack.fake.wait("response_url")
    assert slack.fake.calls_to("users.info") == []


def test_slack_app_home_links_and_welcomes(slack):
    slack.staff("lina", slack_id=None, email="li.na@example.com")
    slack.fake.add_user("U77", "li.na@example.com")
    slack.slack.event({"type": "app_home_opened", "user": "U77", "tab": "home"})
    view = slack.fake.wait("views.publish")[0]
    assert says(texts(view), "slack.linked_by_email", name="lina")
    assert staff_by_name(slack.engine, "lina").slack_id == "U77"


def _team(slack) -> None:
    slack.staff("alice", slack_id=None, email="alice@example.com")
    slack.staff("bob", slack_id=None, email="bob@example.com")  # no such Slack user
    slack.staff("carol", slack_id=None, email="carol@example.com")  # her Slack user is dave's already
    slack.staff("dave", slack_id="U3")
    slack.staff("erin", slack_id="U5", email="erin@example.com")  # linked: not looked up
    slack.staff("frank", slack_id=None, email="frank@example.com", active=False)  # deactivated: left alone
    slack.fake.add_user("U1", "Alice@example.com")
    slack.fake.add_user("U3", "carol@example.com")
    slack.fake.add_user("U6", "frank@example.com")


def test_slack_sync_staff_links_everyone_and_reports_the_rest(slack):
    _team(slack)
    slack.fake.fail("users.lookupByEmail", status=429, times=2)  # rate limited: waits Retry-After, tries again
    lines: list[str] = []
    counts = sync_staff.sync(slack.engine, sync_staff.client(TOKEN, slack.fake.api_url), out=lines.append)
    assert counts == {"linked": 1, "not_found": 1, "taken": 1, "already": 0}
    assert any(ln.startswith("linked") and "alice" in ln and "U1" in ln for ln in lines)
    assert any(ln.startswith("not found") and "bob" in ln for ln in lines)
    assert any(ln.startswith("taken") and "carol" in ln and "dave" in ln for ln in lines)
    asked = [c.args["email"] for c in slack.fake.calls_to("users.lookupByEmail") if c.result.get("ok") is not False
             or c.result.get("error") != "ratelimited"]
    assert asked == ["alice@example.com", "bob@example.com", "carol@example.com"]
    assert staff_by_name(slack.engine, "alice").slack_id == "U1"
    assert staff_by_name(slack.engine, "carol").slack_id is None
    assert staff_by_name(slack.engine, "frank").slack_id is None
    again: list[str] = []
    assert sync_staff.sync(slack.engine, sync_staff.client(TOKEN, slack.fake.api_url),
                           out=again.append)["linked"] == 0  # alice is not waiting any more


def test_slack_sync_staff_command_line(slack, monkeypatch, capsys):
    _team(slack)
    monkeypatch.setenv("DATABASE_URL", str(slack.engine.url))
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_API_URL", slack.fake.api_url)
    code = main(["slack", "sync-staff"])
    out = capsys.readouterr().out
    assert code == 1  # someone was not linked: the exit status says so (scripts can tell)
    assert "linked     alice" in out and "1 linked, 1 not found, 1 already taken." in out
