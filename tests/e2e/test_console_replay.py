"""`crm-bot console --as alice < script.txt` replays a session: one message per line, each reply printed,
a bare number presses that button of the last reply."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from handlers.i18n import t
from storage.db import make_engine, session_scope
from storage.migrate import upgrade
from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]


def _console(tmp_path: Path, user: str, script: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite:///{tmp_path}/crm.db",
               CRM_LOG_FILE=str(tmp_path / "crm.log"), CRM_CONSOLE_HISTORY=str(tmp_path / "hist"))
    (tmp_path / "script.txt").write_text(script, encoding="utf-8")
    with (tmp_path / "script.txt").open("rb") as stdin:
        return subprocess.run([sys.executable, "-m", "bot", "console", "--as", user], cwd=tmp_path, stdin=stdin,
                              capture_output=True, env=env, timeout=120)


def _seed(tmp_path: Path) -> None:
    e = make_engine(f"sqlite:///{tmp_path}/crm.db")
    upgrade(e)
    with session_scope(e) as s:
        f.staff(s, name="alice", lang="zh")
        f.staff(s, name="bob", lang="en")
    e.dispose()


def test_console_replay_answers_in_the_users_language(tmp_path):
    _seed(tmp_path)
    r = _console(tmp_path, "alice", "/help\n\n/lang en\n/help\n/hepl\n/lang\n2\n/help\n")
    out, err = r.stdout.decode(), r.stderr.decode()
    assert r.returncode == 0, err
    assert err == "" and "Traceback" not in out
    turns = out.split("» ")[1:]
    assert [x.splitlines()[0] for x in turns] == ["/help", "/lang en", "/help", "/hepl", "/lang", "2", "/help"]
    assert t("zh", "help.title") in turns[0] and t("en", "help.title") not in turns[0]
    assert t("en", "lang.set") in turns[1]
    assert t("en", "help.title") in turns[2]
    assert "/help" in turns[3] and "⚠" in turns[3]  # unknown verb: the closest known one
    assert "[1] English" in turns[4] and "[2] 中文" in turns[4]
    assert t("zh", "lang.set") in turns[5]  # "2" pressed the 中文 button
    assert t("zh", "help.title") in turns[6]


def test_console_replay_english_user_and_unknown_user(tmp_path):
    _seed(tmp_path)
    r = _console(tmp_path, "bob", "/help\n")
    assert r.returncode == 0 and t("en", "help.title") in r.stdout.decode()
    r = _console(tmp_path, "nobody", "/help\n")
    err = r.stderr.decode()
    assert r.returncode == 2 and len(err.strip().splitlines()) == 1 and "nobody" in err
