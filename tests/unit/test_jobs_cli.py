"""`crm-bot jobs list|run` and `crm-bot outbox list|retry|deliver`, in process against a SQLite file."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import cli, cli_jobs
from bot.config import Config
from handlers import notify
from handlers.views import Reply, Text
from storage.db import create_all, make_engine, session_scope
from storage.models import FollowUp, Outbox
from tests import factories as f
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)  # no stray .env
    engine = make_engine(url)
    create_all(engine)
    with session_scope(engine) as s:
        for name in ("ann", "ben"):
            rep = f.staff(s, name=name)
            c = f.customer(s, name=f"{name} Co", owner=rep)
            s.add(FollowUp(customer_id=c.id, date=f.NOW, method="phone", content="x", staff_id=rep.id,
                           next_followup_at=f.NOW - timedelta(hours=3), created_at=f.NOW))
    yield engine
    engine.dispose()


def statuses(engine) -> list[tuple[str, str]]:
    with session_scope(engine) as s:
        return [(r.key, r.status) for r in s.scalars(select(Outbox).order_by(Outbox.id))]


NOW = f.NOW.isoformat()


def test_jobs_cli_list_shows_every_job(db, capsys):
    assert cli.main(["jobs", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("followup_digest", "first_contact", "cadence", "sla_watch", "complaint_review", "pool_return",
                 "rating_reminder"):
        assert name in out


def test_jobs_cli_run_writes_and_delivers_once(db, capsys):
    assert cli.main(["jobs", "run", "followup_digest", "--now", NOW]) == 0
    out = capsys.readouterr().out
    assert "followup_digest: 2 item(s)" in out and "delivered 2 message(s)" in out
    assert "→ @ann" in out and "→ @ben" in out
    assert {s for _, s in statuses(db)} == {"sent"}
    assert cli.main(["jobs", "run", "followup_digest", "--now", NOW]) == 0
    out = capsys.readouterr().out
    assert "0 item(s)" in out and "→ @ann" not in out
    assert cli.main(["jobs", "list"]) == 0
    assert "last run 2026-11-23 02:00:00Z, 0 item(s)" in capsys.readouterr().out


def test_jobs_cli_no_deliver_leaves_rows_for_the_bot(db, capsys):
    assert cli.main(["jobs", "run", "followup_digest", "--now", "2026-11-23T10:00", "--no-deliver"]) == 0
    assert "→" not in capsys.readouterr().out
    assert {s for _, s in statuses(db)} == {"pending"}
    assert cli.main(["outbox", "deliver"]) == 0
    assert "delivered 2 message(s); 0 waiting" in capsys.readouterr().out


def test_jobs_cli_bad_now_is_one_line(db, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["jobs", "run", "followup_digest", "--now", "tomorrow-ish"])
    assert "ISO-8601" in str(e.value)


def test_outbox_cli_failed_rows_are_visible_and_retried(db, capsys):
    with session_scope(db) as s:
        notify.to_chat(s, platform="console", chat_ref="@ann", key="x:1", reply=Reply(views=(Text("hi"),)), now=f.NOW)
        notify.to_chat(s, platform="console", chat_ref="@ben", key="x:2", reply=Reply(views=(Text("yo"),)), now=f.NOW)
        for r in s.scalars(select(Outbox)):
            r.status, r.last_error, r.attempts = "failed", "chat not found", 8
    assert cli.main(["outbox", "list", "--failed"]) == 0
    out = capsys.readouterr().out
    assert "x:1" in out and "chat not found" in out and "failed 2" in out
    assert cli.main(["outbox", "retry"]) == 2
    assert cli.main(["outbox", "retry", "1"]) == 0
    assert "queued 1" in capsys.readouterr().out
    assert statuses(db) == [("x:1", "pending"), ("x:2", "failed")]
    assert cli.main(["outbox", "retry", "--all-failed", "--deliver"]) == 0
    assert "delivered 2 message(s)" in capsys.readouterr().out
    assert {s for _, s in statuses(db)} == {"sent"}


def test_jobs_cli_transports_are_built_only_when_configured(tmp_path):
    cfg = Config(_env_file=None, slack_bot_token="", telegram_bot_token="")
    assert set(cli_jobs.build_transports(cfg)) == {"console"}
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    create_all(make_engine(url))
    slack, telegram = FakeSlack().start(), FakeTelegram().start()
    try:
        cfg = Config(_env_file=None, database_url=url,
                     slack_bot_token=slack.token, slack_api_url=slack.api_url,
                     telegram_bot_token=telegram.token, telegram_api_url=telegram.root)
        assert set(cli_jobs.build_transports(cfg)) == {"console", "slack", "telegram"}
    finally:
        slack.stop()
        telegram.stop()
