"""The files that hold the CRM's data are private, and CRM_SECRET_KEY replaces the button key kept in the database."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from bot import app as app_mod
from bot import demo
from bot.config import ConfigError, load
from handlers import actions
from storage.db import make_engine, session_scope
from storage.files import private_file

KEY = "k" * 40


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)  # the usual umask, under which files are created 0644
    yield
    os.umask(old)


def test_demo_database_folder_and_log_are_private(tmp_path, loose_umask, monkeypatch):
    monkeypatch.delenv("CRM_SECRET_KEY", raising=False)
    db = tmp_path / "data" / "demo.db"
    a, _ = demo.create(db)
    try:
        with a.engine.connect() as c:  # WAL: the -wal and -shm files exist while a connection is open
            c.execute(text("SELECT count(*) FROM customer"))
            sides = [db.with_name(db.name + s) for s in ("-wal", "-shm")]
            assert all(p.exists() for p in sides)
            assert {p.name: mode(p) for p in sides} == {p.name: 0o600 for p in sides}
        assert mode(db.parent) == 0o700
        assert mode(db) == 0o600
        assert mode(db.with_suffix(".log")) == 0o600
    finally:
        a.engine.dispose()


def test_an_existing_database_file_is_narrowed(tmp_path, loose_umask):
    """A database made by an earlier version (0644) is narrowed when opened; a folder that exists is not ours."""
    tmp_path.chmod(0o755)
    db = tmp_path / "old.db"
    db.touch(mode=0o644)
    assert mode(db) == 0o644
    make_engine(f"sqlite:///{db}").dispose()
    assert mode(db) == 0o600 and mode(tmp_path) == 0o755


def test_a_log_file_is_created_private_in_a_private_folder(tmp_path, loose_umask):
    log = tmp_path / "logs" / "deep" / "crm.log"
    private_file(log)
    assert mode(log) == 0o600 and mode(log.parent) == 0o700 and mode(log.parent.parent) == 0o700


def test_crm_secret_key_replaces_the_stored_key(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    monkeypatch.delenv("CRM_SECRET_KEY", raising=False)
    stored = app_mod.build(database_url=url)
    stored_key = stored.core.secret
    with session_scope(stored.engine) as s:
        assert s.execute(text("SELECT value FROM setting WHERE key = 'action_secret'")).scalar()
    monkeypatch.setenv("CRM_SECRET_KEY", KEY)
    first, second = app_mod.build(database_url=url), app_mod.build(database_url=url)
    assert first.core.secret == second.core.secret == KEY.encode() != stored_key
    now = first.core.clock()
    signed = actions.encode("/help", scope="c:@root", secret=first.core.secret, now=now)
    assert signed != actions.encode("/help", scope="c:@root", secret=stored_key, now=now)
    # a button signed by one process with the key is good in another; one signed with the stored key is not
    assert actions.decode(signed, scopes=("c:@root",), secret=second.core.secret, now=now) == "/help"
    old = actions.encode("/help", scope="c:@root", secret=stored_key, now=now)
    with pytest.raises(actions.BadToken):
        actions.decode(old, scopes=("c:@root",), secret=second.core.secret, now=now)
    for a in (stored, first, second):
        a.engine.dispose()


def test_a_short_crm_secret_key_is_refused(monkeypatch):
    monkeypatch.setenv("CRM_SECRET_KEY", "hunter2")
    with pytest.raises(ConfigError, match="CRM_SECRET_KEY"):
        load()
