"""`crm-bot run telegram` as a real process against the fake Bot API: start, answer, stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from handlers.i18n import t
from tests.fakes.telegram_api import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


def test_run_telegram_process_polls_answers_and_stops_cleanly(tmp_path) -> None:
    fake = FakeTelegram().start()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path}/crm.db",
           "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_URL": fake.root,
           "TELEGRAM_SERVICE_CHAT": "-1001234567890", "LOG_LEVEL": "INFO"}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run", "telegram"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        fake.wait_for(lambda: fake.calls_of("deleteWebhook"), timeout=30)
        fake.push_message(chat_id=4242, user_id=4242, text="/start")
        [m] = fake.wait_sent(4242, timeout=20)
        assert m["text"] == t("en", "auth.stranger")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        fake.stop()
    assert proc.returncode == 0, err[-2000:]
    assert fake.token not in err and fake.token.split(":")[1] not in err  # no token in the logs
    assert "running (polling)" in err


def test_run_telegram_polling_serves_health_and_metrics_on_crm_http_port(tmp_path) -> None:
    import json
    import urllib.request

    fake = FakeTelegram().start()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path}/crm.db",
           "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_URL": fake.root, "LOG_LEVEL": "INFO",
           "CRM_HTTP_PORT": "0", "CRM_HTTP_HOST": "127.0.0.1"}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run", "telegram"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "health and metrics on http://127.0.0.1:" in line, line + proc.stderr.read()
        base = line.split(" on ", 1)[1].split("/healthz", 1)[0]
        fake.wait_for(lambda: fake.calls_of("deleteWebhook"), timeout=30)
        fake.push_message(chat_id=4242, user_id=4242, text="/start")
        fake.wait_sent(4242, timeout=20)
        fake.wait_for(lambda: json.loads(urllib.request.urlopen(base + "/healthz", timeout=10).read())
                      ["scheduler"]["role"] == "leader", timeout=30)  # SQLite: the one instance leads
        metrics = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
        assert 'crm_commands_total{outcome="ok",platform="telegram",verb="start"} 1.0' in metrics
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        fake.stop()
    assert proc.returncode == 0, err[-2000:]
