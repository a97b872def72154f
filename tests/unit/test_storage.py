"""Storage basics on SQLite and PostgreSQL: aware UTC datetimes, 64-bit Telegram ids, constraints, the unit
of work."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session

from storage import outbox
from storage.db import is_sqlite, make_engine, session_scope
from storage.migrate import upgrade
from storage.models import Contact, Staff
from tests import factories as f
from tests.factories import NOW


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    if request.param == "sqlite":
        e = make_engine(f"sqlite:///{tmp_path}/s.db")
        upgrade(e)
        yield e
        e.dispose()
        return
    url = request.getfixturevalue("pg_url")
    schema = f"st_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    e = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(e)
    yield e
    e.dispose()
    with admin.begin() as c:
        c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def test_storage_datetimes_come_back_aware_utc(db):
    shanghai = timezone(timedelta(hours=8))
    with session_scope(db) as s:
        st = f.staff(s, name="a")
        st.created_at = datetime(2026, 11, 23, 10, 0, tzinfo=shanghai)
    with Session(db) as s:
        got = s.scalar(select(Staff.created_at))
        assert got == datetime(2026, 11, 23, 2, 0, tzinfo=UTC) and got.tzinfo == UTC
        assert s.scalar(select(Staff).where(Staff.created_at < NOW + timedelta(seconds=1))) is not None


def test_storage_naive_datetimes_are_refused(db):
    with pytest.raises(StatementError), session_scope(db) as s:
        f.staff(s, name="a").created_at = datetime(2026, 1, 1)  # noqa: DTZ001
        s.flush()


def test_storage_telegram_ids_are_64_bit(db):
    with session_scope(db) as s:
        f.staff(s, name="tg", telegram_id=7_123_456_789)
    with Session(db) as s:
        assert s.scalar(select(Staff.telegram_id)) == 7_123_456_789


def test_storage_constraints_and_rollback(db):
    with session_scope(db) as s:
        f.staff(s, name="same")
    with pytest.raises(IntegrityError), session_scope(db) as s:
        f.staff(s, name="other")
        f.staff(s, name="same")
    with Session(db) as s:
        assert list(s.scalars(select(Staff.name))) == ["same"]  # the whole unit of work rolled back
    with pytest.raises(IntegrityError), session_scope(db) as s:  # foreign keys are enforced (SQLite too)
        s.add(Contact(customer_id=12345, name="x", created_at=NOW))
        s.flush()


def test_storage_outbox_key_is_idempotent(db):
    with session_scope(db) as s:
        assert outbox.add(s, key="k1", platform="console", chat_ref="@a", scope="c:@a", payload="{}", now=NOW)
        assert not outbox.add(s, key="k1", platform="console", chat_ref="@a", scope="c:@a", payload="{}", now=NOW)
    with session_scope(db) as s:
        rows = outbox.claim(s, worker="w", now=NOW)
        assert [r.key for r in rows] == ["k1"]


def test_storage_sqlite_file_pragmas(tmp_path):
    e = make_engine(f"sqlite:///{tmp_path}/sub/dir/p.db")  # the directory is created
    assert is_sqlite(e)
    with e.connect() as c:
        assert c.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert c.execute(text("PRAGMA journal_mode")).scalar().lower() == "wal"
    e.dispose()


def test_storage_processed_update_dedupes(db):
    from handlers.router import first_delivery

    with session_scope(db) as s:
        assert first_delivery(s, "telegram", "u1", NOW) is True
        assert first_delivery(s, "telegram", "u1", NOW) is False
        assert first_delivery(s, "slack", "u1", NOW) is True


def test_storage_unavailable_tells_a_busy_database_from_a_bug(tmp_path):
    from sqlalchemy.exc import OperationalError

    from storage.db import unavailable

    e = make_engine(f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(OperationalError) as bug, e.connect() as c:
        c.execute(text("SELECT * FROM no_such_table"))
    assert not unavailable(bug.value)  # a bug: "something went wrong (ref …)"
    dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/x")
    with pytest.raises(OperationalError) as refused, dead.connect():
        pass
    assert unavailable(refused.value)  # "busy, try again shortly"
    assert not unavailable(ValueError("x"))
    e.dispose()
    dead.dispose()
