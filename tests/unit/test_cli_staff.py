"""`crm-bot staff add` / `staff list` (the admin CLI is a public interface)."""

from __future__ import annotations

import json
import re

import pytest

from bot.cli import main

FIELDS = ["id", "name", "role", "team", "manager", "slack_id", "telegram_id", "email", "tz", "lang", "notify", "active"]


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/crm.db")
    for var in ("CRM_DEFAULT_TZ", "CRM_DEFAULT_LANG"):
        monkeypatch.delenv(var, raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _list(cli) -> list[dict]:
    code, out, err = cli("staff", "list", "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_cli_staff_add_and_list_json(cli):
    assert cli("staff", "add", "--name", "张伟", "--role", "manager", "--team", "east", "--lang", "zh")[0] == 0
    code, out, _ = cli("staff", "add", "--name", "alice", "--role", "rep", "--team", "east", "--manager", "张伟",
                       "--slack-id", "U012AB3CD", "--telegram-id", "5000000001", "--tz", "Europe/Berlin")
    assert code == 0 and "alice" in out
    assert cli("staff", "add", "--name", "tg", "--role", "agent", "--telegram-id", "42")[0] == 0
    rows = _list(cli)
    assert [list(r) for r in rows] == [FIELDS] * 3
    boss, alice, tg = rows
    assert boss == {"id": boss["id"], "name": "张伟", "role": "manager", "team": "east", "manager": None,
                    "slack_id": None, "telegram_id": None, "email": None, "tz": "Asia/Shanghai", "lang": "zh",
                    "notify": "console", "active": True}
    assert alice["manager"] == "张伟" and alice["slack_id"] == "U012AB3CD"
    assert alice["telegram_id"] == 5000000001 and alice["tz"] == "Europe/Berlin"
    assert alice["notify"] == "slack" and alice["lang"] == "en"  # the defaults: Slack id present; CRM_DEFAULT_LANG
    assert tg["notify"] == "telegram"


def test_cli_staff_list_table(cli):
    cli("staff", "add", "--name", "bob", "--role", "agent")
    code, out, _ = cli("staff", "list")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["id", "name", "role"] and "bob" in lines[1]


def _cells(line: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in line)


def test_cli_staff_list_table_shows_the_platform_ids_in_aligned_columns(cli):
    """The README's check after `slack sync-staff` / the invites: `staff list` shows each slack_id and
    telegram_id; Chinese names (two columns wide on a terminal) keep the columns straight."""
    cli("staff", "add", "--name", "王建国", "--role", "admin", "--slack-id", "U0ADMIN01")
    cli("staff", "add", "--name", "bob", "--role", "agent", "--telegram-id", "5123456789")
    _, out, _ = cli("staff", "list")
    head, admin, bob = out.splitlines()
    assert head.split()[5:7] == ["slack_id", "telegram_id"]
    assert "U0ADMIN01" in admin and "5123456789" in bob
    for word, line in (("admin", admin), ("agent", bob)):
        assert _cells(line[:line.index(word)]) == _cells(head[:head.index("role")])


def test_cli_staff_invite_all_aligns_chinese_names(cli):
    cli("staff", "add", "--name", "王建国", "--role", "admin")
    cli("staff", "add", "--name", "bob", "--role", "agent")
    _, out, _ = cli("staff", "invite", "--all")
    lines = [ln for ln in out.splitlines() if "/start" in ln or "start=" in ln]
    starts = {_cells(ln[:ln.rindex(" ") + 1]) for ln in lines}
    assert len(lines) == 2 and len(starts) == 1


def test_cli_staff_defaults_follow_settings(cli, monkeypatch):
    monkeypatch.setenv("CRM_DEFAULT_TZ", "Asia/Tokyo")
    monkeypatch.setenv("CRM_DEFAULT_LANG", "zh")
    cli("staff", "add", "--name", "kenji", "--role", "rep")
    (row,) = _list(cli)
    assert row["tz"] == "Asia/Tokyo" and row["lang"] == "zh"


@pytest.mark.parametrize("args, needle", [
    (("--name", "x", "--role", "rep", "--tz", "Mars/Base"), "--tz"),
    (("--name", "x", "--role", "rep", "--manager", "nobody"), "--manager"),
    (("--name", "x", "--role", "rep", "--notify", "slack"), "--slack-id"),
    (("--name", "x", "--role", "rep", "--notify", "telegram"), "--telegram-id"),
    (("--name", "x", "--role", "rep", "--slack-id", "not-an-id"), "--slack-id"),
    (("--name", "  ", "--role", "rep"), "--name"),
])
def test_cli_staff_add_bad_arguments_give_one_line(cli, args, needle):
    code, out, err = cli("staff", "add", *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and needle in err
    assert _list(cli) == []


def test_cli_staff_add_duplicate_name_is_refused(cli):
    assert cli("staff", "add", "--name", "dup", "--role", "rep")[0] == 0
    code, _, err = cli("staff", "add", "--name", "dup", "--role", "agent")
    assert code == 2 and "exists already" in err
    assert [r["role"] for r in _list(cli)] == ["rep"]


def test_cli_staff_add_unknown_role_is_an_argparse_error(cli):
    with pytest.raises(SystemExit) as e:
        cli("staff", "add", "--name", "x", "--role", "boss")
    assert e.value.code == 2


def test_cli_staff_invite_link_or_start_line(cli, monkeypatch):
    assert cli("staff", "add", "--name", "bob", "--role", "agent")[0] == 0
    code, out, _ = cli("staff", "invite", "bob")
    assert code == 0 and "TELEGRAM_BOT_USERNAME" in out
    assert re.search(r"^  /start [A-Za-z0-9_-]{16,64}$", out, re.M)
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "acme_crm_bot")
    code, out, _ = cli("staff", "invite", "bob")
    assert code == 0 and re.search(r"https://t\.me/acme_crm_bot\?start=[A-Za-z0-9_-]{16,64}", out)
    code, _, err = cli("staff", "invite", "nobody")
    assert code == 2 and "nobody" in err


def test_cli_staff_invite_all_gives_a_link_to_everyone_without_telegram(cli, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "abc_crm_bot")
    for name, extra in (("王强", ("--role", "admin")), ("赵敏", ("--role", "agent")),
                        ("孙磊", ("--role", "agent", "--telegram-id", "42")), ("周婷", ("--role", "supervisor"))):
        assert cli("staff", "add", "--name", name, *extra)[0] == 0
    assert cli("staff", "deactivate", "周婷")[0] == 0
    code, out, _ = cli("staff", "invite", "--all")
    assert code == 0
    links = dict(re.findall(r"^(\S+)\s+https://t\.me/abc_crm_bot\?start=([A-Za-z0-9_-]{16,64})$", out, re.M))
    assert set(links) == {"王强", "赵敏"}  # 孙磊 is linked already, 周婷 is deactivated
    assert len(set(links.values())) == 2 and "2 invites" in out
    with pytest.raises(SystemExit):
        cli("staff", "invite", "赵敏", "--all")  # a name or --all, not both
