"""Alembic: an empty or pre-migration database ends up exactly like the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage.db import create_all, make_engine
from storage.migrate import INITIAL_REV, MIGRATIONS, current, head, upgrade


def _diffs(engine) -> list:
    with engine.connect() as c:
        return compare_metadata(MigrationContext.configure(c), SQLModel.metadata)


def _rev(engine) -> str | None:
    with engine.connect() as c:
        return current(c)


@pytest.fixture
def pg_engine(pg_url):
    """A fresh schema of the test database, first on the search path, dropped afterwards."""
    schema = f"mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    e = create_engine(pg_url, connect_args={"options": f"-csearch_path={schema}"})
    yield e
    e.dispose()
    with admin.begin() as c:
        c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def test_migrations_single_initial_revision():
    files = sorted(p.name for p in (MIGRATIONS / "versions").glob("*.py"))
    assert files == [f"{INITIAL_REV}_initial_schema.py"]
    assert head() == INITIAL_REV
    body = (MIGRATIONS / "versions" / files[0]).read_text()
    assert "storage" not in body and "sqlmodel" not in body  # revisions import nothing from the app
    assert "sa.DateTime(timezone=True)" in body


def test_migrations_upgrade_empty_sqlite_matches_models(tmp_path):
    e = make_engine(f"sqlite:///{tmp_path}/empty.db")
    upgrade(e)
    assert _rev(e) == INITIAL_REV
    assert _diffs(e) == []
    upgrade(e)  # idempotent
    assert _rev(e) == INITIAL_REV
    e.dispose()


def test_migrations_upgrade_empty_postgresql_matches_models(pg_engine):
    upgrade(pg_engine)
    assert _rev(pg_engine) == INITIAL_REV
    assert _diffs(pg_engine) == []
    cols = {c["name"]: c for c in inspect(pg_engine).get_columns("staff")}
    assert "BIGINT" in str(cols["telegram_id"]["type"]).upper()
    assert cols["created_at"]["type"].timezone is True  # timestamptz


def test_migrations_adopt_create_all_database(tmp_path):
    """A database created by create_all before migrations: missing pieces are added, then stamped."""
    e = make_engine(f"sqlite:///{tmp_path}/old.db")
    create_all(e)
    with e.begin() as c:
        c.execute(text("INSERT INTO code_counter (series, value) VALUES ('cust:ABC:2026', 7)"))
        c.execute(text("ALTER TABLE customer DROP COLUMN notes"))
        c.execute(text("DROP TABLE job_run"))
    assert _rev(e) is None
    upgrade(e)
    assert _rev(e) == INITIAL_REV
    assert _diffs(e) == []
    with e.connect() as c:  # data kept
        assert c.execute(text("SELECT value FROM code_counter")).scalar_one() == 7
    e.dispose()


def test_migrations_adopt_create_all_postgresql(pg_engine):
    create_all(pg_engine)
    with pg_engine.begin() as c:
        c.execute(text("ALTER TABLE ticket DROP COLUMN rating_comment"))
        c.execute(text("DROP INDEX ix_customer_next_followup_at"))
    upgrade(pg_engine)
    assert _rev(pg_engine) == INITIAL_REV
    assert _diffs(pg_engine) == []


def test_migrations_concurrent_upgrades_postgresql(pg_engine):
    """Several instances starting at once: the advisory lock makes them take turns."""
    import threading

    errors: list = []

    def run() -> None:
        try:
            upgrade(pg_engine)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == [] and _rev(pg_engine) == INITIAL_REV and _diffs(pg_engine) == []
