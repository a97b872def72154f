"""A bad setting or a broken database URL stops start-up with ONE clear line naming it — no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load

ROOT = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CRM_") and k != "DATABASE_URL"}
    full = {**clean, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path}/crm.db", **env}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, capture_output=True, text=True,
                          env=full, timeout=120)


def _one_line(r: subprocess.CompletedProcess | tuple[int, str], *needles: str) -> None:
    code, err = (r.returncode, r.stderr) if isinstance(r, subprocess.CompletedProcess) else r
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and lines[0].startswith("crm-bot: ")
    for n in needles:
        assert n in lines[0]


@pytest.mark.parametrize("env, needles", [
    ({"CRM_DEFAULT_TZ": "Mars/Olympus"}, ("CRM_DEFAULT_TZ", "Mars/Olympus")),
    ({"DATABASE_URL": "not a url"}, ("DATABASE_URL",)),
    ({"DATABASE_URL": "sqlite:///"}, ("DATABASE_URL", "file")),
    ({"DATABASE_URL": "postgresql+psycopg://"}, ("DATABASE_URL", "name the database")),
    ({"DATABASE_URL": "postgresql+psycopg://crm:s3cret@127.0.0.1:1/crm"}, ("database error", "127.0.0.1")),
])
def test_config_errors_in_a_subprocess(tmp_path, env, needles):
    r = _run(tmp_path, "staff", "list", **env)
    _one_line(r, *needles)
    assert "s3cret" not in r.stderr


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/crm.db")

    def run(*args: str) -> tuple[int, str]:
        code = main(list(args))
        return code, capsys.readouterr().err

    return run


@pytest.mark.parametrize("var, value", [
    ("CRM_SLA_HIGH", "fast"), ("CRM_PAGE_SIZE", "lots"), ("CRM_COMPANY_ABBR", "abc1"),
    ("CRM_DEFAULT_LANG", "fr"), ("CRM_REMINDER_TIME", "9am"), ("LOG_LEVEL", "loud"),
    ("DATABASE_URL", "mysql://u@h/db"), ("TELEGRAM_SERVICE_CHAT", "my group"),
])
def test_config_bad_setting_names_the_variable(cli, monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    _one_line(cli("staff", "list"), var)


def test_config_unopenable_sqlite_paths(cli, tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("x")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/afile/crm.db")
    _one_line(cli("staff", "list"), "database error")
    (tmp_path / "garbage.db").write_bytes(b"this is not a database file at all" * 200)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/garbage.db")
    _one_line(cli("staff", "list"), "database error")
    _one_line(cli("db", "upgrade"), "database error")


def test_config_db_upgrade_creates_and_is_idempotent(cli, tmp_path, capsys):
    assert main(["db", "upgrade"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert (tmp_path / "crm.db").exists()


def test_config_defaults_and_env_file(tmp_path, monkeypatch):
    for k in list(os.environ):
        if k.startswith("CRM_") or k == "DATABASE_URL":
            monkeypatch.delenv(k)
    monkeypatch.chdir(tmp_path)
    loaded = load()
    assert loaded.config.database_url == "sqlite:///./data/crm.db"
    assert loaded.domain.default_tz == "Asia/Shanghai" and loaded.domain.company_abbr == "ABC"
    (tmp_path / ".env").write_text("CRM_COMPANY_ABBR=XYZ\nDATABASE_URL=sqlite:///./x.db\n")
    loaded = load()
    assert loaded.domain.company_abbr == "XYZ" and loaded.config.database_url == "sqlite:///./x.db"
    (tmp_path / ".env").write_text("CRM_GRADE_A_MIN=many\n")
    with pytest.raises(ConfigError, match="CRM_GRADE_A_MIN"):
        load()


def test_config_database_from_a_newer_version_gives_one_line(cli, tmp_path):
    from sqlalchemy import text

    from storage.db import make_engine
    from storage.migrate import upgrade

    e = make_engine(f"sqlite:///{tmp_path}/crm.db")
    upgrade(e)
    with e.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = 'ffff9999'"))
    e.dispose()
    _one_line(cli("staff", "list"), "database error", "ffff9999")
    _one_line(cli("db", "upgrade"), "database error")


@pytest.mark.parametrize("env, needle", [
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
    ({"CRM_HTTP_PORT": "abc"}, "CRM_HTTP_PORT"),
    ({"CRM_HTTP_PORT": "70000"}, "CRM_HTTP_PORT"),
])
def test_config_log_format_and_http_port_are_checked(monkeypatch, env, needle):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ConfigError) as e:
        load()
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_config_http_port_unset_is_none_and_a_number_is_a_port(monkeypatch):
    monkeypatch.delenv("CRM_HTTP_PORT", raising=False)
    assert load(_env_file=None).config.http_port() is None
    monkeypatch.setenv("CRM_HTTP_PORT", "9100")
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    cfg = load(_env_file=None).config
    assert (cfg.http_port(), cfg.log_format) == (9100, "json")
