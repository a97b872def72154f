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
from tests.fakes.telegram_api import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
RAY = 7001


def test_jobs_cli_delivers_a_telegram_digest_itself(tmp_path):
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    engine = make_engine(url)
    create_all(engine)
    with session_scope(engine) as s:
        rep = f.staff(s, name="ray", telegram_id=RAY)
        c = f.customer(s, name="Acme <b>Robotics</b>", owner=rep)
        s.add(FollowUp(customer_id=c.id, date=f.NOW, method="phone", content="call back", staff_id=rep.id,
                       next_followup_at=f.NOW - timedelta(hours=5), created_at=f.NOW))
    fake = FakeTelegram().start()
    try:
        env = {**os.environ, "DATABASE_URL": url, "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_URL": fake.root,
               "PYTHONPATH": str(ROOT), "CRM_LOG_FILE": str(tmp_path / "crm.log")}
        run = subprocess.run([sys.executable, "-m", "bot", "jobs", "run", "followup_digest", "--now",
                              (f.NOW + timedelta(hours=1)).isoformat()], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        [digest] = fake.sent(RAY)
        assert "Acme &lt;b&gt;Robotics&lt;/b&gt;" in digest["text"]
        assert any(b["text"] for b in digest.buttons)
        with session_scope(engine) as s:
            assert [r.status for r in s.exec(select(Outbox))] == ["sent"]
    finally:
        fake.stop()


def test_jobs_cli_delivers_a_slack_digest_itself(tmp_path):
    from tests.fakes.slack_api import FakeSlack

    url = f"sqlite:///{tmp_path / 'crm.db'}"
    engine = make_engine(url)
    create_all(engine)
    with session_scope(engine) as s:
        rep = f.staff(s, name="sam", slack_id="U0SAM")
        c = f.customer(s, name="<!channel> Acme", owner=rep)
        s.add(FollowUp(customer_id=c.id, date=f.NOW, method="phone", content="call back", staff_id=rep.id,
                       next_followup_at=f.NOW - timedelta(hours=5), created_at=f.NOW))
    fake = FakeSlack().start()
    try:
        env = {**os.environ, "DATABASE_URL": url, "SLACK_BOT_TOKEN": fake.token, "SLACK_API_URL": fake.api_url,
               "PYTHONPATH": str(ROOT), "CRM_LOG_FILE": str(tmp_path / "crm.log")}
        run = subprocess.run([sys.executable, "-m", "bot", "jobs", "run", "followup_digest", "--now",
                              (f.NOW + timedelta(hours=1)).isoformat()], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        [post] = fake.calls_to("chat.postMessage")
        assert post.args["channel"] == "U0SAM"
        body = json.dumps(post.args, ensure_ascii=False)
        assert "&lt;!channel&gt; Acme" in body and "<!channel>" not in body
        with session_scope(engine) as s:
            assert [r.status for r in s.exec(select(Outbox))] == ["sent"]
    finally:
        fake.stop()
