"""`crm-bot run slack telegram` / `crm-bot run all` as real processes against both fakes: one process serves both
platforms; `run all` with one platform configured starts it and says in one line which it skipped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from handlers.i18n import t
from tests.fakes.slack_api import TOKEN, FakeSlack
from tests.fakes.slack_platform import SlackPlatform
from tests.fakes.telegram_api import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fakes():  # noqa: ANN201
    s, tg = FakeSlack(TOKEN).start(), FakeTelegram().start()
    yield s, tg
    s.stop()
    tg.stop()


def environ(tmp_path: Path, *, slack: FakeSlack | None, tg: FakeTelegram | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_"))}
    env.update({"PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path}/crm.db", "LOG_LEVEL": "INFO"})
    if slack:
        env.update({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "proc-secret", "SLACK_API_URL": slack.api_url,
                    "SLACK_SERVICE_CHANNEL": "CSERVICE"})
    if tg:
        env.update({"TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_URL": tg.root})
    return env


def crm(tmp_path: Path, env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_run_slack_telegram_serves_both_in_one_process(fakes, tmp_path) -> None:
    sfake, tg = fakes
    env = environ(tmp_path, slack=sfake, tg=tg)
    add = subprocess.run([sys.executable, "-m", "bot", "staff", "add", "--name", "sue", "--role", "supervisor",
                          "--slack-id", "USUE"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert add.returncode == 0, add.stderr
    proc = crm(tmp_path, env, "run", "slack", "telegram", "--http", "--host", "127.0.0.1", "--port", "0")
    try:
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line + proc.stderr.read()
        base = line.split("listening on ", 1)[1].strip().removesuffix("/slack/events")
        with urllib.request.urlopen(base + "/healthz", timeout=10) as r:
            assert r.status == 200
        assert SlackPlatform(base + "/slack/events", "proc-secret", sfake).command("/help", user="USUE").status == 200
        assert sfake.wait("response_url")[0].args["blocks"]
        tg.wait_for(lambda: tg.calls_of("deleteWebhook"), timeout=30)
        tg.push_message(chat_id=4242, user_id=4242, text="/start")
        [m] = tg.wait_sent(4242, timeout=20)
        assert m["text"] == t("en", "auth.stranger")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    assert "skipped" not in err and "Traceback" not in err


def test_run_slack_telegram_webhook_and_slack_share_one_port(fakes, tmp_path) -> None:
    """One process, one port, one reverse-proxy rule: Slack's events, Telegram's webhook, /healthz, /metrics."""
    import json

    sfake, tg = fakes
    env = {**environ(tmp_path, slack=sfake, tg=tg), "TELEGRAM_WEBHOOK_SECRET": "hook_secret-1"}
    proc = crm(tmp_path, env, "run", "slack", "telegram", "--http", "--host", "127.0.0.1", "--port", "0",
               "--webhook-url", "https://crm.example.test/tg")
    try:
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line + proc.stderr.read()
        base = line.split("listening on ", 1)[1].strip().removesuffix("/slack/events")
        tg.wait_for(lambda: tg.webhook.get("url") == "https://crm.example.test/tg", timeout=30)
        assert tg.webhook["secret_token"] == "hook_secret-1" and not tg.calls_of("getUpdates")
        update = json.dumps(tg.message_update(chat_id=4242, user_id=4242, text="/start")).encode()

        def post(headers: dict) -> int:
            req = urllib.request.Request(base + "/tg", data=update, method="POST",
                                         headers={"Content-Type": "application/json", **headers})
            try:
                with urllib.request.urlopen(req, timeout=20) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code

        assert post({"X-Telegram-Bot-Api-Secret-Token": "wrong"}) == 403
        assert post({"X-Telegram-Bot-Api-Secret-Token": "hook_secret-1"}) == 200
        [m] = tg.wait_sent(4242, timeout=20)
        assert m["text"] == t("en", "auth.stranger")
        assert SlackPlatform(base + "/slack/events", "proc-secret", sfake).command("/help", user="USUE").status == 200
        with urllib.request.urlopen(base + "/healthz", timeout=10) as r:
            assert r.status == 200
        with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
            assert b'platform="telegram",verb="start"' in r.read()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err and "hook_secret-1" not in err


def test_run_all_with_only_telegram_configured_says_slack_is_skipped(fakes, tmp_path) -> None:
    _, tg = fakes
    proc = crm(tmp_path, environ(tmp_path, slack=None, tg=tg), "run", "all")
    try:
        tg.wait_for(lambda: tg.calls_of("deleteWebhook"), timeout=30)
        tg.push_message(chat_id=4242, user_id=4242, text="/start")
        [m] = tg.wait_sent(4242, timeout=20)
        assert m["text"] == t("en", "auth.stranger")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err[-2000:]
    skipped = [ln for ln in err.splitlines() if "skipped" in ln]
    assert skipped == ["crm-bot: slack skipped: SLACK_BOT_TOKEN is not set (the xoxb-… bot token)"]


@pytest.mark.parametrize("args, expect", [
    (("run", "all"), "no platform is configured"),
    (("run", "slack", "telegram", "--http"), "TELEGRAM_BOT_TOKEN is not set"),
])
def test_run_both_refuses_in_one_line(fakes, tmp_path, args, expect) -> None:
    sfake, _ = fakes
    env = environ(tmp_path, slack=sfake if "slack" in args else None, tg=None)
    proc = crm(tmp_path, env, *args)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and expect in err and len(err.strip().splitlines()) == 1, err
