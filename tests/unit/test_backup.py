"""Backups and restores of the SQLite database: `crm-bot backup`, `crm-bot restore`, the nightly job."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from bot import cli
from handlers.context import Inbound
from handlers.router import Core
from scheduler.jobs import backup as backup_job
from storage import backup
from storage.db import create_all, make_engine, session_scope
from storage.migrate import head, upgrade
from storage.models import FollowUp, SchedulerLease
from tests.unit.test_tickets_support import Desk


@pytest.fixture
def live(tmp_path, settings, clock):
    """A file database with the support desk's people and customers, as a running bot has it."""
    engine = make_engine(f"sqlite:///{tmp_path / 'crm.db'}")
    upgrade(engine)
    desk = Desk(Core(engine, settings, secret=b"s", clock=clock), engine)
    yield desk
    engine.dispose()


def log_call(desk: Desk, n: int) -> str:
    reply = desk.core.handle(Inbound(platform="console", user_ref="ray", chat_ref="@ray",
                                     text=f"/log {desk.codes['c1']} phone: call number {n}"))
    return "\n".join(getattr(v, "text", "") for v in reply.views)


def contents(path) -> set[str]:
    con = sqlite3.connect(path)
    try:
        return {r[0] for r in con.execute("SELECT content FROM followup")}
    finally:
        con.close()


def test_backup_under_load_then_restore_keeps_every_committed_row(live, tmp_path):
    """Calls are logged from two threads while the backup runs: the copy is one consistent snapshot — every call
    whose /log had answered before the backup began is in it, nothing half-written — and a restore brings
    exactly that back."""
    done_before: list[str] = []
    stop = threading.Event()
    errors: list[BaseException] = []
    lock = threading.Lock()
    counter = iter(range(1_000_000))

    def writer() -> None:
        try:
            while not stop.is_set():
                with lock:
                    n = next(counter)
                log_call(live, n)
                with lock:
                    done_before.append(f"call number {n}")
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for th in threads:
        th.start()
    while len(done_before) < 20:
        threading.Event().wait(0.01)
    with lock:
        committed = set(done_before)
    snap = backup.backup(live.engine, tmp_path / "b.db")
    while len(done_before) < len(committed) + 20:  # the bot went on logging during and after the copy
        threading.Event().wait(0.01)
    stop.set()
    for th in threads:
        th.join()
    assert errors == []
    assert contents(backup.sqlite_file(live.engine)) == set(done_before)  # every answered /log was saved
    in_backup = contents(snap.path)
    assert committed <= in_backup  # everything answered before the backup started is in it
    assert in_backup < set(done_before)  # and it is a snapshot: later calls are not
    assert stat.S_IMODE(os.stat(snap.path).st_mode) == 0o600
    assert snap.revision == head() and snap.rows["followup"] == len(in_backup)

    restored, kept = backup.restore(live.engine, snap.path, now=live.core.clock())
    assert kept is not None and contents(kept) == set(done_before)  # the replaced database is kept
    with session_scope(live.engine) as s:
        assert set(s.scalars(select(FollowUp.content))) == in_backup
    assert restored.rows == snap.rows
    log_call(live, 999_999)  # the restored database takes new calls
    with session_scope(live.engine) as s:
        assert s.scalars(select(FollowUp).where(FollowUp.content == "call number 999999")).one()


def test_restore_refuses_while_a_bot_holds_the_lease(live, tmp_path, clock):
    snap = backup.backup(live.engine, tmp_path / "b.db")
    with session_scope(live.engine) as s:
        s.add(SchedulerLease(name="scheduler", holder="host:123:abcd", expires_at=clock() + timedelta(seconds=20)))
    with pytest.raises(backup.BackupError, match="a bot is running on this database .host:123:abcd."):
        backup.restore(live.engine, snap.path, now=clock())
    # an expired lease is a bot that stopped (or died): the restore goes ahead
    assert backup.restore(live.engine, snap.path, now=clock() + timedelta(seconds=21))[0].rows == snap.rows


def test_restore_migrates_an_older_backup(live, tmp_path, clock):
    old = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    from alembic import command

    from storage.migrate import alembic_config
    with old.begin() as conn:
        command.upgrade(alembic_config(conn), "0002")
    old.dispose()
    assert backup.inspect_file(tmp_path / "old.db").revision == "0002"
    restored, _ = backup.restore(live.engine, tmp_path / "old.db", now=clock())
    assert restored.revision == head() != "0002"


def test_restore_refuses_newer_foreign_and_damaged_files(live, tmp_path, clock):
    newer = tmp_path / "newer.db"
    backup.backup(live.engine, newer)
    con = sqlite3.connect(newer)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    with pytest.raises(backup.BackupError, match="from a newer crm-bot"):
        backup.restore(live.engine, newer, now=clock())

    foreign = tmp_path / "other.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE t (x)")
    con.close()
    with pytest.raises(backup.BackupError, match="not a crm-bot database"):
        backup.restore(live.engine, foreign, now=clock())

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(backup.BackupError, match="not a SQLite database"):
        backup.restore(live.engine, junk, now=clock())
    with pytest.raises(backup.BackupError, match="no such file"):
        backup.restore(live.engine, tmp_path / "missing.db", now=clock())
    with session_scope(live.engine) as s:  # nothing was touched
        assert s.execute(text("SELECT version_num FROM alembic_version")).scalar() == head()


def test_nightly_job_keeps_the_newest_copies(live, tmp_path, settings, clock):
    folder = tmp_path / "backups"
    on = settings.model_copy(update={"backup_dir": str(folder), "backup_keep": 2})
    for day in range(3):
        with session_scope(live.engine) as s:
            assert backup_job.run(s, now=clock() + timedelta(days=day), settings=on, channels={}) == 1
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 2 and names[0] < names[1]
    assert backup.inspect_file(folder / names[1]).rows["customer"] == 3
    with session_scope(live.engine) as s:  # off by default
        assert backup_job.run(s, now=clock(), settings=settings, channels={}) == 0


def test_cli_backup_and_restore(live, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", str(live.engine.url))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["backup", str(tmp_path / "c.db")]) == 0
    out = capsys.readouterr().out
    assert "backup written" in out and "3 customer" in out
    with open(os.devnull) as devnull:  # not a terminal: no prompt, no restore without --yes
        monkeypatch.setattr("sys.stdin", devnull)
        assert cli.main(["restore", str(tmp_path / "c.db")]) == 2
    assert "give --yes" in capsys.readouterr().err
    assert cli.main(["restore", str(tmp_path / "c.db"), "--yes"]) == 0
    assert "restored" in capsys.readouterr().out


def test_cli_backup_on_postgresql_prints_pg_dump(pg_db, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DATABASE_URL", str(pg_db.url.render_as_string(hide_password=False)))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["backup", "crm.dump"]) == 0
    out = capsys.readouterr().out
    assert "is reachable" in out and "pg_dump --format=custom --file=crm.dump 'postgresql://" in out
    assert cli.main(["restore", "crm.dump", "--yes"]) == 2
    assert "pg_restore" in capsys.readouterr().err


def test_backup_dir_on_postgresql_refuses_to_start(pg_db, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DATABASE_URL", str(pg_db.url.render_as_string(hide_password=False)))
    monkeypatch.setenv("CRM_BACKUP_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["backup", "crm.dump"]) == 2
    assert "CRM_BACKUP_DIR" in capsys.readouterr().err


def test_in_memory_database_has_nothing_to_back_up(tmp_path):
    e = make_engine("sqlite://")
    create_all(e)
    with pytest.raises(backup.BackupError, match="in-memory"):
        backup.backup(e, tmp_path / "x.db")
