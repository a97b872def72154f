"""`crm-bot jobs run followup_digest` delivers a rep's digest itself, through the Telegram or Slack API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from storage.db import create_all, make_engine, session_scope
from storage.models import FollowUp, Outbox
from tests import factories as f
from tests.fakes.slack_api import FakeSlack
from tests.fakes.telegram_api import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
RAY = 7001


def _one_due_followup(tmp_path, *, customer: str, **staff_kw):  # noqa: ANN001, ANN202
    """A file database with one rep and one overdue follow-up; returns (url, engine)."""
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    engine = make_engine(url)
    create_all(engine)
    with session_scope(engine) as s:
        rep = f.staff(s, **staff_kw)
        c = f.customer(s, name=customer, owner=rep)
        s.add(FollowUp(customer_id=c.id, date=f.NOW, method="phone", content="call back", staff_id=rep.id,
                       next_followup_at=f.NOW - timedelta(hours=5), created_at=f.NOW))
    return url, engine


def _run_digest(tmp_path, url: str, **env_kw: str) -> None:  # noqa: ANN001
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "CRM_LOG_FILE": str(tmp_path / "crm.log"),
           **env_kw}
    run = subprocess.run([sys.executable, "-m", "bot", "jobs", "run", "followup_digest", "--now",
                          (f.NOW + timedelta(hours=1)).isoformat()], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr


def _all_sent(engine) -> bool:  # noqa: ANN001
    with session_scope(engine) as s:
        return [r.status for r in s.exec(select(Outbox))] == ["sent"]


def test_jobs_cli_delivers_a_telegram_digest_itself(tmp_path):
    url, engine = _one_due_followup(tmp_path, customer="Acme <b>Robotics</b>", name="ray", telegram_id=RAY)
    fake = FakeTelegram().start()
    try:
        _run_digest(tmp_path, url, TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_URL=fake.root)
        [digest] = fake.sent(RAY)
        assert "Acme &lt;b&gt;Robotics&lt;/b&gt;" in digest["text"]
        assert any(b["text"] for b in digest.buttons)
        assert _all_sent(engine)
    finally:
        fake.stop()


def test_jobs_cli_delivers_a_slack_digest_itself(tmp_path):
    url, engine = _one_due_followup(tmp_path, customer="<!channel> Acme", name="sam", slack_id="U0SAM")
    fake = FakeSlack().start()
    try:
        _run_digest(tmp_path, url, SLACK_BOT_TOKEN=fake.token, SLACK_API_URL=fake.api_url)
        [post] = fake.calls_to("chat.postMessage")
        assert post.args["channel"] == "U0SAM"
        body = json.dumps(post.args, ensure_ascii=False)
        assert "&lt;!channel&gt; Acme" in body and "<!channel>" not in body
        assert _all_sent(engine)
    finally:
        fake.stop()
