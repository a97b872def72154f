from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, SQLModel

from handlers.router import Core
from handlers.settings import DomainSettings
from storage.db import create_all, make_engine
from tests.factories import NOW


class Clock:
    """A controllable clock: `clock.now`, `clock.advance(minutes=5)`."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        from datetime import timedelta

        self.now = self.now + timedelta(**kw)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def _schema():
    """The SQLite schema, created once per session. Each test's `engine` starts from a copy of it (the sqlite3
    backup API, ~0.4 ms) instead of running create_all (~15 ms): the same fresh, empty database, and the code
    under test keeps committing for real (no outer transaction to roll back, so threads and sessions behave)."""
    e = make_engine("sqlite://")
    create_all(e)
    raw = e.raw_connection()
    yield raw.driver_connection
    raw.close()
    e.dispose()


@pytest.fixture
def engine(_schema):
    e = make_engine("sqlite://")
    with e.connect() as c:
        _schema.backup(c.connection.driver_connection)
    yield e
    e.dispose()


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as s:
        yield s
        s.rollback()


@pytest.fixture
def settings(tmp_path) -> DomainSettings:
    return DomainSettings(_env_file=None, upload_dir=str(tmp_path / "uploads"))


@pytest.fixture
def core(engine, settings, clock) -> Core:
    return Core(engine, settings, secret=b"test-secret", clock=clock)


@pytest.fixture
def pg_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    return url


@pytest.fixture(scope="session")
def _pg_schema() -> str:
    """TEST_DATABASE_URL with the schema made once per session (drop_all, create_all)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    e = make_engine(url)
    SQLModel.metadata.drop_all(e)
    with e.begin() as c:  # a stamp left by an earlier run would claim a schema these tables are not
        c.execute(text("DROP TABLE IF EXISTS alembic_version"))
    create_all(e)
    e.dispose()
    return url


def empty_tables(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as c:
        c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def pg_db(_pg_schema: str) -> Iterator[Engine]:
    """An engine on the session's PostgreSQL schema, its tables emptied (ids restart at 1): the fresh database
    drop_all + create_all gave each test, for a fraction of the cost. The code under test commits for real, from
    several threads and engines, so a per-test rollback could not isolate it; emptying the tables does. A test
    that adds objects (triggers, functions) drops them itself. A test that drops the tables at its end
    (test_fuzz_router's world) gets them back here: one query tells."""
    e = make_engine(_pg_schema)
    if {t.name for t in SQLModel.metadata.sorted_tables} - set(inspect(e).get_table_names()):
        create_all(e)
    empty_tables(e)
    yield e
    e.dispose()
