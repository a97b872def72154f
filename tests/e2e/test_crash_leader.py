"""The scheduler leader is killed (SIGKILL): a follower takes the lease over and runs the scheduler."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlmodel import SQLModel

from scheduler import leader
from storage.db import create_all, make_engine, session_scope
from storage.models import SchedulerLease

ROOT = Path(__file__).resolve().parents[2]

LEADER = """
import time
from datetime import timedelta
from bot import app as app_mod
from bot.cli_jobs import PrintTransport
from bot.services import start_background

a = app_mod.build()
start_background(a, {"console": PrintTransport()}, lease_ttl=timedelta(seconds=3), lease_every=0.5)
while True:
    time.sleep(1)
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_url(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'crm.db'}"
    else:
        url = os.environ.get("TEST_DATABASE_URL") or pytest.skip("TEST_DATABASE_URL is not set")
    engine = make_engine(url)
    create_all(engine)
    if request.param == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with engine.begin() as c:
            c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield engine, url
    engine.dispose()


def _holder(engine) -> str | None:
    with session_scope(engine) as s:
        return s.scalar(select(SchedulerLease.holder).where(SchedulerLease.name == "scheduler"))


def _wait(cond, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return False


def test_crash_leader_killed_follower_takes_over(tmp_path, engine_url):
    engine, url = engine_url
    script = tmp_path / "leader.py"
    script.write_text(LEADER)
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    errors = tmp_path / "leader.err"
    with errors.open("w") as err:
        proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                                stderr=err)
    events: list[str] = []
    follower = leader.Leadership(leader.Lease(engine, ttl=timedelta(seconds=3)),
                                 on_elected=lambda: events.append("elected"),
                                 on_deposed=lambda: events.append("deposed"), every=0.5)
    try:
        assert _wait(lambda: f":{proc.pid}:" in (_holder(engine) or "")), errors.read_text()[-2000:]
        follower.start()
        time.sleep(1.5)
        assert follower.is_leader is False and events == []  # the live leader keeps its lease
        os.kill(proc.pid, signal.SIGKILL)
        assert _wait(lambda: follower.is_leader, 30)
        assert events == ["elected"] and _holder(engine) == follower.lease.holder
    finally:
        follower.stop()
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
    assert events == ["elected", "deposed"]
