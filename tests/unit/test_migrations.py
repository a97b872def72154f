"""Alembic: an empty or pre-migration database ends up exactly like the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage import migrate, textindex
from storage.db import create_all, make_engine
from storage.migrate import INITIAL_REV, MIGRATIONS, current, head, upgrade

HEAD = head()


def _diffs(engine) -> list:
    with engine.connect() as c:
        return compare_metadata(MigrationContext.configure(c, opts={"include_name": textindex.include_name}),
                                SQLModel.metadata)


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


def test_migrations_form_one_chain():
    """0001, 0002, … each on top of the one before, the file named after its revision; head is the last."""
    files = sorted(p.name for p in (MIGRATIONS / "versions").glob("*.py"))
    numbers = [name[:4] for name in files]
    assert files[0] == f"{INITIAL_REV}_initial_schema.py" and "0002_followup_assignee.py" in files
    assert numbers == [f"{i:04d}" for i in range(1, len(files) + 1)]
    assert head() == numbers[-1]
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert [r.revision for r in script.walk_revisions()] == numbers[::-1]
    for below, rev in zip(numbers, numbers[1:], strict=False):
        assert script.get_revision(rev).down_revision == below
    for name in files:
        body = (MIGRATIONS / "versions" / name).read_text()
        assert "storage" not in body and "sqlmodel" not in body  # revisions import nothing from the app
    assert "sa.DateTime(timezone=True)" in (MIGRATIONS / "versions" / files[0]).read_text()


def test_migrations_new_revision_follows_head(tmp_path, monkeypatch):
    """`python -m storage.migrate revision MSG` adds the next revision on top of head; nothing is rewritten."""
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS", copy)
    before = {p.name: p.read_text() for p in (copy / "versions").glob("*.py")}
    path = migrate.revision("nothing changed")
    assert path.name.startswith(f"{int(HEAD) + 1:04d}_") and path.parent == copy / "versions"
    assert f"down_revision: str | Sequence[str] | None = '{HEAD}'" in path.read_text()
    assert "customer_name_fts" not in path.read_text()  # the text index is not the models': nothing to drop
    assert {p.name: p.read_text() for p in (copy / "versions").glob("*.py") if p != path} == before
    assert migrate.main([]) == 2 and migrate.main(["regenerate"]) == 2


def test_migrations_upgrade_empty_sqlite_matches_models(tmp_path):
    e = make_engine(f"sqlite:///{tmp_path}/empty.db")
    upgrade(e)
    assert _rev(e) == HEAD
    assert _diffs(e) == []
    upgrade(e)  # idempotent
    assert _rev(e) == HEAD
    e.dispose()


def test_migrations_upgrade_empty_postgresql_matches_models(pg_engine):
    upgrade(pg_engine)
    assert _rev(pg_engine) == HEAD
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
    assert _rev(e) == HEAD
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
    assert _rev(pg_engine) == HEAD
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
    assert errors == [] and _rev(pg_engine) == HEAD and _diffs(pg_engine) == []


# ---------------------------------------------------------------- 0001 → 0002: followup.assignee_id

_T = "2026-11-20 10:00:00+00:00"


def _seed_0001(conn) -> None:
    """At revision 0001: two reps, a manager; alice's customer, a pooled one; open and closed follow-ups."""
    for sid, name, role in ((1, "alice", "rep"), (2, "bob", "rep"), (3, "mia", "manager")):
        conn.execute(text("INSERT INTO staff (id, name, role, tz, lang, notify, reminder_time, "
                          "active, created_at) VALUES (:i, :n, :r, 'UTC', 'en', 'console', '09:00', true, :t)"), {"i": sid, "n": name, "r": role, "t": _T})
    for cid, code, owner in ((10, "ABC2026001", 1), (11, "ABC2026002", None)):
        conn.execute(text("INSERT INTO customer (id, code, name, name_norm, industry, type, grade, "
                          "grade_locked, owner_id, created_by_id, created_at, updated_at) VALUES (:i, :c, :c, "
                          ":c, 'IT', 'potential', 'C', false, :o, 1, :t, :t)"), {"i": cid, "c": code, "o": owner, "t": _T})
    rows = ((100, 10, 1, _T, None),   # alice's call, next one open: alice (the owner) owes it
            (101, 10, 3, _T, None),   # the manager logged it for alice's customer: the owner owes it
            (102, 10, 2, None, None),  # a call with no next date: its author
            (103, 10, 2, _T, _T),     # done: its author
            (104, 11, 2, _T, None))   # open, but the customer is in the pool: nobody
    for fid, cid, sid, nxt, done in rows:
        conn.execute(text("INSERT INTO followup (id, customer_id, date, method, content, staff_id, "
                          "next_followup_at, done_at, created_at) VALUES (:i, :c, :t, 'phone', 'x', :s, :n, "
                          ":d, :t)"), {"i": fid, "c": cid, "s": sid, "n": nxt, "d": done, "t": _T})


def _upgrade_0001_database(engine) -> None:
    with engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), INITIAL_REV)
        assert "assignee_id" not in {c["name"] for c in inspect(conn).get_columns("followup")}
        _seed_0001(conn)
    upgrade(engine)
    assert _rev(engine) == HEAD
    assert _diffs(engine) == []
    with engine.connect() as c:
        got = dict(c.execute(text("SELECT id, assignee_id FROM followup ORDER BY id")).all())
        authors = dict(c.execute(text("SELECT id, staff_id FROM followup")).all())
        idx = {i["name"] for i in inspect(c).get_indexes("followup")}
    assert got == {100: 1, 101: 1, 102: 2, 103: 2, 104: None}
    assert authors == {100: 1, 101: 3, 102: 2, 103: 2, 104: 2}  # the authors are untouched
    assert "ix_followup_assignee_next" in idx


def test_migrations_0001_database_upgrades_to_0002_sqlite(tmp_path):
    e = make_engine(f"sqlite:///{tmp_path}/at0001.db")
    _upgrade_0001_database(e)
    e.dispose()


def test_migrations_0001_database_upgrades_to_0002_postgresql(pg_engine):
    _upgrade_0001_database(pg_engine)


def _adopt_legacy_database(engine) -> None:
    """A pre-migration database (the 0001 tables, no `alembic_version`): adopted with 0002's backfill."""
    with engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), INITIAL_REV)
        conn.execute(text("DROP TABLE alembic_version"))
        _seed_0001(conn)
    upgrade(engine)
    assert _rev(engine) == HEAD and _diffs(engine) == []
    with engine.connect() as c:
        got = dict(c.execute(text("SELECT id, assignee_id FROM followup ORDER BY id")).all())
    assert got == {100: 1, 101: 1, 102: 2, 103: 2, 104: None}


def test_migrations_adopt_backfills_assignee_sqlite(tmp_path):
    e = make_engine(f"sqlite:///{tmp_path}/old.db")
    _adopt_legacy_database(e)
    e.dispose()


def test_migrations_adopt_backfills_assignee_postgresql(pg_engine):
    _adopt_legacy_database(pg_engine)


# ---------------------------------------------------------------- 0002 → 0003: staff.email


def _upgrade_0002_database(engine) -> None:
    with engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), "0002")
        assert "email" not in {c["name"] for c in inspect(conn).get_columns("staff")}
        _seed_0001(conn)
    upgrade(engine)
    assert _rev(engine) == HEAD and _diffs(engine) == []
    with engine.begin() as c:
        assert dict(c.execute(text("SELECT name, email FROM staff")).all()) == {"alice": None, "bob": None,
                                                                              "mia": None}
        c.execute(text("UPDATE staff SET email = 'alice@example.com' WHERE name = 'alice'"))
        assert "ix_staff_email" in {i["name"] for i in inspect(c).get_indexes("staff")}


def test_migrations_0002_database_gets_staff_email_sqlite(tmp_path):
    e = make_engine(f"sqlite:///{tmp_path}/at0002.db")
    _upgrade_0002_database(e)
    e.dispose()


def test_migrations_0002_database_gets_staff_email_postgresql(pg_engine):
    _upgrade_0002_database(pg_engine)


# ---------------------------------------------------------------- 0003 → 0004: customer.merged_into_id


def _upgrade_0003_database(engine) -> None:
    with engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), "0003")
        assert "merged_into_id" not in {c["name"] for c in inspect(conn).get_columns("customer")}
        _seed_0001(conn)
    upgrade(engine)
    assert _rev(engine) == HEAD and _diffs(engine) == []
    with engine.begin() as c:
        assert c.execute(text("SELECT count(*) FROM customer WHERE merged_into_id IS NULL")).scalar() == \
            c.execute(text("SELECT count(*) FROM customer")).scalar()
        assert "ix_customer_merged_into_id" in {i["name"] for i in inspect(c).get_indexes("customer")}
        assert any(fk["referred_table"] == "customer" and fk["constrained_columns"] == ["merged_into_id"]
                   for fk in inspect(c).get_foreign_keys("customer"))


def test_migrations_0003_database_gets_customer_merged_into_sqlite(tmp_path):
    e = make_engine(f"sqlite:///{tmp_path}/at0003.db")
    _upgrade_0003_database(e)
    e.dispose()


def test_migrations_0003_database_gets_customer_merged_into_postgresql(pg_engine):
    _upgrade_0003_database(pg_engine)
def test_a_database_from_a_newer_crm_bot_is_refused_with_the_fix(tmp_path, capsys, monkeypatch):
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    e = make_engine(url)
    upgrade(e)
    with e.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    with pytest.raises(migrate.MigrationError, match="schema 0999, which this crm-bot does not know .* a newer"):
        upgrade(e)
    e.dispose()
    from bot import cli

    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert "does not know" in err and "crm-bot restore" in err and "Traceback" not in err


# ---------------------------------------------------------------- 0005 → 0006: ticket.emotion, ticket.cause


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_migrations_0005_database_gets_complaint_details(db, tmp_path, request):
    engine = make_engine(f"sqlite:///{tmp_path}/at0005.db") if db == "sqlite" else request.getfixturevalue("pg_engine")
    with engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), "0005")
        assert not {"emotion", "cause"} & {c["name"] for c in inspect(conn).get_columns("ticket")}
        _seed_0001(conn)
    upgrade(engine)
    assert _rev(engine) == HEAD and _diffs(engine) == []
    with engine.begin() as c:
        assert {"emotion", "cause"} <= {col["name"] for col in inspect(c).get_columns("ticket")}
    if db == "sqlite":
        engine.dispose()
