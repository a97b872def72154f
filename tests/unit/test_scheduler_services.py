"""`bot.services.start_background`: the sender drains (and wakes on core writes), the scheduler runs on the leader."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from bot.app import App
from bot.config import Config
from bot.services import start_background
from handlers import notify
from handlers.router import Core
from handlers.views import Reply, Text
from storage.db import create_all, make_engine, session_scope
from storage.models import FollowUp, Setting
from storage.repos.settings import SERVICE_CHANNEL
from tests import factories as f


class Recorder:
    platform = "console"

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.got = threading.Event()

    def send(self, chat_ref, reply, *, scope):
        self.sent.append(chat_ref)
        self.got.set()
        return f"m{len(self.sent)}"

    def edit(self, chat_ref, message_ref, reply, *, scope):
        pass


def _wait(cond, seconds=20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def file_app(tmp_path, settings, clock):
    """A SQLite file, as in production: the in-memory test engine shares one connection across threads."""
    engine = make_engine(f"sqlite:///{tmp_path / 'crm.db'}")
    create_all(engine)
    core = Core(engine, settings, secret=b"test-secret", clock=clock)
    yield App(config=Config(_env_file=None), settings=settings, engine=engine, core=core)
    engine.dispose()


def test_background_runs_the_digest_and_delivers_it(file_app):
    app, engine, core = file_app, file_app.engine, file_app.core
    with session_scope(engine) as s:
        rep = f.staff(s, name="lou")
        c = f.customer(s, name="Due Co", owner=rep)
        s.add(FollowUp(customer_id=c.id, date=f.NOW, method="phone", content="x", staff_id=rep.id,
                       next_followup_at=f.NOW - timedelta(hours=2), created_at=f.NOW))
    rec = Recorder()
    bg = start_background(app, {"console": rec}, sender_interval=30, lease_every=0.2)
    try:
        assert _wait(lambda: "@lou" in rec.sent)  # the digest job ran on the leader; its write woke the sender
        assert bg.is_leader
        rec.got.clear()
        with session_scope(engine) as s:
            notify.to_chat(s, platform="console", chat_ref="@x", key="k", reply=Reply(views=(Text("hi"),)),
                           now=f.NOW)
        core.outbox_written()  # what the router does after a unit of work that wrote rows
        assert _wait(lambda: "@x" in rec.sent)
    finally:
        bg.stop()
    assert not bg.is_leader
    assert rec.sent.count("@lou") == 1


def test_background_without_scheduler_only_sends(engine, settings, core):
    app = App(config=Config(_env_file=None), settings=settings, engine=engine, core=core)
    bg = start_background(app, {"console": Recorder()}, scheduler=False)
    try:
        assert bg.leadership is None and not bg.is_leader
    finally:
        bg.stop()


def test_background_with_the_adapters_own_sender(file_app):
    from bot.outbox import Sender

    own = Sender(file_app.engine, {"console": Recorder()})
    bg = start_background(file_app, {}, sender=own, lease_every=0.2)
    try:
        assert bg.sender is own and own.wake not in file_app.core.on_outbox
        assert _wait(lambda: bg.is_leader)
    finally:
        bg.stop()
    assert own._thread is None  # never started or stopped here: its owner does that


def test_no_service_channel_warns_with_the_setup_command(file_app, caplog):
    with caplog.at_level("WARNING", logger="crm.services"):
        start_background(file_app, {"console": Recorder()}, scheduler=False).stop()
    [warning] = [r.getMessage() for r in caplog.records if "no service channel" in r.getMessage()]
    assert "/setup service" in warning


def test_a_channel_stored_by_setup_service_is_no_reason_to_warn_at_start(file_app, caplog):
    """A team that typed `/setup service` (the README's way) sees no 'no service channel' warning on restart."""
    with session_scope(file_app.engine) as s:
        s.add(Setting(key=SERVICE_CHANNEL + "slack", value='"CSVC"', updated_at=f.NOW))
    with caplog.at_level("WARNING", logger="crm.services"):
        start_background(file_app, {"console": Recorder()}, scheduler=False).stop()
    assert not [r for r in caplog.records if "no service channel" in r.getMessage()]
