"""Pytest fixtures for Telegram adapter tests (import them into a test module: `from ... import *`).

A file SQLite database (the bot, its worker threads and the outbox sender share it), a core with the
Telegram supervisor group as its service channel, two staff members and the fake Bot API.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session

import tests.fakes.telegram_testcmds  # noqa: F401 - registers the test-only verbs
from handlers.router import Core
from storage.db import create_all, make_engine
from tests import factories
from tests.fakes.telegram_api import FakeTelegram

SERVICE = -1001234567890
ALICE = 1003  # supervisor, English
BOB = 2002  # agent, Chinese
STRANGER = 5005

__all__ = ["ALICE", "BOB", "SERVICE", "STRANGER", "fake", "staff", "tg_core", "tg_engine"]


@pytest.fixture
def fake():
    f = FakeTelegram().start()
    yield f
    f.stop()


@pytest.fixture
def tg_engine(tmp_path):
    e = make_engine(f"sqlite:///{tmp_path}/crm.db")
    create_all(e)
    yield e
    e.dispose()


@pytest.fixture
def staff(tg_engine) -> None:
    with Session(tg_engine) as s:
        factories.staff(s, name="alice", role="supervisor", telegram_id=ALICE, lang="en")
        factories.staff(s, name="bob", role="agent", telegram_id=BOB, lang="zh")
        s.commit()


@pytest.fixture
def tg_core(tg_engine, settings, clock, staff) -> Core:
    return Core(tg_engine, settings, secret=b"tg-test-secret", clock=clock, channels={"telegram": str(SERVICE)})
