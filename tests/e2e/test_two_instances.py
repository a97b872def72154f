"""Two real `crm-bot run telegram` (or `run all`) processes on one PostgreSQL database (docs/scaling.md, "Several instances"):
`/healthz` on each one's CRM_HTTP_PORT says one is the leader and the other a follower; only the leader
long-polls the (fake) Bot API; when the leader stops (SIGTERM, which releases the lease) the follower leads, polls
and answers — each update once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from handlers.i18n import t
from tests.fakes.telegram_api import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
STRANGER = 4242


def health(base: str) -> dict:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=10) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:  # 503 carries the same report
        return json.loads(e.read())


def role(base: str) -> str:
    return health(base)["scheduler"]["role"]


def wait(cond, seconds: float = 40) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


class Proc:
    def __init__(self, tmp_path: Path, env: dict, name: str, command: list[str]) -> None:
        self.err = tmp_path / f"{name}.err"
        with self.err.open("w") as err:
            self.p = subprocess.Popen([sys.executable, "-m", "bot", *command], cwd=tmp_path, env=env,
                                      stdout=subprocess.PIPE, stderr=err, text=True)
        line = self.p.stdout.readline()
        assert "health and metrics on http://127.0.0.1:" in line, line + self.err.read_text()
        self.base = line.split(" on ", 1)[1].split("/healthz", 1)[0]

    def log(self) -> str:
        return self.err.read_text()

    def stop(self) -> int:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.returncode


@pytest.mark.parametrize("command", [["run", "telegram"], ["run", "all"]], ids=" ".join)
def test_two_processes_one_leader_one_follower_and_failover(tmp_path, pg_db, command) -> None:
    fake = FakeTelegram().start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_", "CRM_"))}
    env.update({"PYTHONPATH": str(ROOT), "DATABASE_URL": pg_db.url.render_as_string(hide_password=False),
                "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_URL": fake.root, "LOG_LEVEL": "INFO",
                "CRM_HTTP_PORT": "0", "CRM_HTTP_HOST": "127.0.0.1"})
    procs: list[Proc] = []
    try:
        first = Proc(tmp_path, env, "first", command)
        procs.append(first)
        wait(lambda: role(first.base) == "leader")
        second = Proc(tmp_path, env, "second", command)
        procs.append(second)
        wait(lambda: role(second.base) == "follower")
        start = len(fake.calls_of("getUpdates"))
        fake.wait_for(lambda: len(fake.calls_of("getUpdates")) >= start + 10, timeout=30)
        assert role(first.base) == "leader" and role(second.base) == "follower"
        assert fake.conflicts == 0 and fake.max_concurrent_polls == 1
        assert "long polling started" in first.log() and "long polling started" not in second.log()
        fake.push_message(chat_id=STRANGER, user_id=STRANGER, text="/start")
        fake.wait_sent(STRANGER, 1, timeout=20)

        assert first.stop() == 0, first.log()[-2000:]
        fake.push_message(chat_id=STRANGER, user_id=STRANGER, text="/tickets")  # waits at Telegram meanwhile
        wait(lambda: role(second.base) == "leader")
        fake.wait_sent(STRANGER, 2, timeout=30)
        fake.push_message(chat_id=STRANGER, user_id=STRANGER, text="hello?")
        fake.wait_sent(STRANGER, 3, timeout=30)
        assert [m["text"] for m in fake.sent(STRANGER)] == [t("en", "auth.stranger")] * 3
        assert fake.conflicts == 0
        assert "long polling started" in second.log()
        assert second.stop() == 0, second.log()[-2000:]
    finally:
        for p in procs:
            p.stop()
        fake.stop()
