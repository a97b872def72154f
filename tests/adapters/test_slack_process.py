"""`crm-bot run slack --http` as a real process against the fake Slack: start-up, /healthz, a signed command."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.fakes.slack_api import TOKEN, FakeSlack
from tests.fakes.slack_platform import SlackPlatform

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake():  # noqa: ANN201
    f = FakeSlack(TOKEN).start()
    yield f
    f.stop()


def test_slack_process_serves_http_mode(fake, tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/crm.db", "SLACK_BOT_TOKEN": TOKEN,
           "SLACK_SIGNING_SECRET": "proc-secret", "SLACK_API_URL": fake.api_url,
           "SLACK_SERVICE_CHANNEL": "CSERVICE", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    env.pop("SLACK_APP_TOKEN", None)
    add = subprocess.run([sys.executable, "-m", "bot", "staff", "add", "--name", "alice", "--role", "rep",
                          "--slack-id", "U012AB3CD"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert add.returncode == 0, add.stderr
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run", "slack", "--http", "--host", "127.0.0.1",
                             "--port", "0"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line + proc.stderr.read()
        base = line.split("listening on ", 1)[1].strip().removesuffix("/slack/events")
        with urllib.request.urlopen(base + "/healthz", timeout=10) as r:
            assert r.status == 200
        slack = SlackPlatform(base + "/slack/events", "proc-secret", fake)
        assert slack.command("/help", user="U012AB3CD").status == 200
        assert fake.wait("response_url")[0].args["blocks"]
        assert slack.command("/help", user="U012AB3CD", secret="wrong").status == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_slack_process_json_logs_one_object_per_line_without_secrets(fake, tmp_path):
    import json

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/crm.db", "SLACK_BOT_TOKEN": TOKEN,
           "SLACK_SIGNING_SECRET": "proc-secret", "SLACK_API_URL": fake.api_url, "LOG_FORMAT": "json",
           "SLACK_SERVICE_CHANNEL": "CSERVICE", "LOG_LEVEL": "INFO", "PYTHONPATH": str(ROOT)}
    env.pop("SLACK_APP_TOKEN", None)
    add = subprocess.run([sys.executable, "-m", "bot", "staff", "add", "--name", "alice", "--role", "rep",
                          "--slack-id", "U012AB3CD"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert add.returncode == 0, add.stderr
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run", "slack", "--http", "--host", "127.0.0.1",
                             "--port", "0"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()
        base = line.split("listening on ", 1)[1].strip().removesuffix("/slack/events")
        slack = SlackPlatform(base + "/slack/events", "proc-secret", fake)
        assert slack.command("/help", "call 13812345678 or a@b.example", user="U012AB3CD").status == 200
        fake.wait("response_url")
        assert slack.post("payload=notjson").status == 400
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = [json.loads(ln) for ln in err.splitlines() if ln.strip()]  # every line is one JSON object
    [unit] = [ln for ln in lines if ln["event"] == "command"]
    assert {"time", "level", "request_id", "platform", "staff_id", "verb", "duration_ms", "outcome"} <= set(unit)
    assert (unit["platform"], unit["verb"], unit["outcome"]) == ("slack", "help", "ok")
    assert any(ln.get("status") == 400 and ln["logger"] == "crm.http" for ln in lines)
    for secret in (TOKEN, "proc-secret", "13812345678", "a@b.example"):
        assert secret not in err
