"""Crash safety: `crm-bot jobs run followup_digest` killed with SIGKILL in the middle of delivery, then run
again. Every rep gets the digest; nobody gets it twice, except at most the one message in flight at the kill
(handed to the platform, not yet marked sent: its claim goes stale and it is delivered again).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlmodel import SQLModel

from storage.db import create_all, make_engine, session_scope
from storage.models import FollowUp, Outbox
from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]
REPS = 12

# Runs the real CLI with a slow recording transport in place of the console one.
SCRIPT = """
import os, sys, time
from bot import cli, cli_jobs

class SlowRecorder:
    platform = "console"
    def __init__(self):
        self.f = open(os.environ["CRASH_RECORD"], "a")
    def send(self, chat_ref, reply, *, scope):
        self.f.write(chat_ref + "\\n"); self.f.flush(); os.fsync(self.f.fileno())
        time.sleep(float(os.environ.get("CRASH_DELAY", "0")))   # the kill lands here: sent, not yet marked
        return "m-" + chat_ref
    def edit(self, chat_ref, message_ref, reply, *, scope):
        pass

cli_jobs.transport_factories = {"console": lambda cfg: SlowRecorder()}
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        u = f"sqlite:///{tmp_path / 'crm.db'}"
    else:
        u = os.environ.get("TEST_DATABASE_URL")
        if not u:
            pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    engine = make_engine(u)
    create_all(engine)
    if request.param == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with engine.begin() as c:
            c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    with session_scope(engine) as s:
        for i in range(REPS):
            rep = f.staff(s, name=f"rep{i:02d}")
            c = f.customer(s, name=f"Customer {i}", owner=rep)
            s.add(FollowUp(customer_id=c.id, date=f.NOW, method="phone", content="call back", staff_id=rep.id,
                           next_followup_at=f.NOW - timedelta(hours=5), created_at=f.NOW))
    engine.dispose()
    return u


def _run(tmp_path, url, *args, delay="0", claim_timeout=None) -> subprocess.Popen:
    script = tmp_path / "crm_bot_slow.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "DATABASE_URL": url, "CRASH_RECORD": str(tmp_path / "sent.log"), "CRASH_DELAY": delay,
           "PYTHONPATH": str(ROOT), "CRM_LOG_FILE": str(tmp_path / "crm.log")}
    if claim_timeout is not None:
        env["CRM_OUTBOX_CLAIM_TIMEOUT"] = claim_timeout
    return subprocess.Popen([sys.executable, str(script), "jobs", "run", "followup_digest", "--now",
                             f.NOW.isoformat(), *args], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _sent(tmp_path) -> list[str]:
    p = tmp_path / "sent.log"
    return p.read_text().split() if p.exists() else []


def test_crash_killed_mid_delivery_then_rerun_everyone_gets_it_once(tmp_path, url):
    proc = _run(tmp_path, url, delay="0.3")
    deadline = time.monotonic() + 60
    while len(_sent(tmp_path)) < 4 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)
    first = _sent(tmp_path)
    assert 4 <= len(first) < REPS, "the kill must land in the middle of the run"

    # the restart: the stale claim of the dead run is taken again (the timeout is shortened for the test)
    time.sleep(1.1)
    rerun = _run(tmp_path, url, claim_timeout="1")
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err.decode()[-2000:]

    counts = Counter(_sent(tmp_path))
    assert set(counts) == {f"@rep{i:02d}" for i in range(REPS)}  # everyone got the digest
    repeats = [chat for chat, n in counts.items() if n > 1]
    assert len(repeats) <= 1 and max(counts.values()) <= 2  # at most the one in flight went twice
    engine = make_engine(url)
    with session_scope(engine) as s:
        rows = list(s.scalars(select(Outbox)))
    engine.dispose()
    assert len(rows) == REPS and {r.status for r in rows} == {"sent"}


def test_crash_rerun_before_the_claim_times_out_leaves_the_in_flight_one_for_later(tmp_path, url):
    proc = _run(tmp_path, url, delay="0.3")
    deadline = time.monotonic() + 60
    while len(_sent(tmp_path)) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=10)
    rerun = _run(tmp_path, url)  # default claim timeout (5 min): the in-flight row is not touched yet
    rerun.communicate(timeout=120)
    assert rerun.returncode == 0
    counts = Counter(_sent(tmp_path))
    assert max(counts.values()) == 1  # nothing twice
    engine = make_engine(url)
    with session_scope(engine) as s:
        st = Counter(r.status for r in s.scalars(select(Outbox)))
    engine.dispose()
    assert st["sent"] + st["sending"] == REPS and st["sending"] <= 1
    assert len(counts) == REPS  # the in-flight one did reach its rep before the kill
