"""`crm-bot staff edit|deactivate|activate|import` (the admin CLI is a public interface)."""

from __future__ import annotations

import json

import pytest
from openpyxl import Workbook

from bot.cli import main
from handlers.i18n import t


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


def people(cli) -> dict[str, dict]:
    code, out, err = cli("staff", "list", "--format", "json")
    assert code == 0, err
    return {r["name"]: r for r in json.loads(out)}


def test_cli_staff_edit_validates_and_changes(cli):
    cli("staff", "add", "--name", "张伟", "--role", "manager", "--team", "east")
    cli("staff", "add", "--name", "bob", "--role", "rep", "--slack-id", "U0BOB1", "--email", "Bob@Example.com")
    assert people(cli)["bob"]["email"] == "bob@example.com"
    assert cli("staff", "edit", "张伟", "--email", "bob@example.com")[0] == 2  # emails are unique too
    assert cli("staff", "edit", "张伟", "--email", "not-an-email")[0] == 2
    code, _, err = cli("staff", "edit", "bob", "--tz", "Mars/Olympus")
    assert code == 2 and t("en", "staffedit.err.tz", value="Mars/Olympus") in err and len(err.splitlines()) == 1
    assert cli("staff", "edit", "bob", "--role", "boss")[0] == 2
    assert cli("staff", "edit", "bob", "--reminder-time", "9h")[0] == 2
    assert cli("staff", "edit", "张伟", "--slack-id", "U0BOB1")[0] == 2  # ids are unique
    code, out, err = cli("staff", "edit", "bob", "--team", "east", "--manager", "张伟", "--tz", "Europe/Berlin",
                         "--lang", "zh", "--reminder-time", "08:30", "--telegram-id", "77", "--notify", "telegram")
    assert code == 0, err
    bob = people(cli)["bob"]
    assert (bob["team"], bob["manager"], bob["tz"], bob["lang"], bob["notify"], bob["telegram_id"]) == (
        "east", "张伟", "Europe/Berlin", "zh", "telegram", 77)


def test_cli_staff_deactivate_and_activate(cli):
    cli("staff", "add", "--name", "bob", "--role", "rep")
    assert cli("staff", "deactivate", "bob")[0] == 0 and not people(cli)["bob"]["active"]
    code, _, err = cli("staff", "deactivate", "bob")
    assert code == 2 and t("en", "staffcmd.err.already_inactive", name="bob") in err
    assert cli("staff", "activate", "bob")[0] == 0 and people(cli)["bob"]["active"]


def test_cli_staff_import_dry_run_then_yes_all_or_nothing(cli, tmp_path):
    cli("staff", "add", "--name", "bob", "--role", "rep")
    good = tmp_path / "team.csv"
    good.write_text("name,role,team,manager,telegram_id,tz,reminder\n"
                    "王芳,manager,east,,,Asia/Shanghai,\n"
                    "李雷,rep,east,王芳,5001,Asia/Shanghai,08:30\n"
                    "bob,,east,王芳,,,\n", encoding="utf-8-sig")
    code, out, _ = cli("staff", "import", str(good))
    assert code == 0 and "2 to add, 1 to change" in out and set(people(cli)) == {"bob"}  # a dry run writes nothing
    bad = tmp_path / "bad.xlsx"
    wb = Workbook()
    wb.active.append(["姓名", "角色", "时区", "telegram_id"])
    wb.active.append(["韩梅梅", "rep", "Asia/Shanghai", 9001])
    wb.active.append(["赵六", "rep", "Nowhere/Land", 9001])
    wb.save(bad)
    code, out, _ = cli("staff", "import", str(bad), "--yes")
    assert code == 2 and "row 3: " + t("en", "staffedit.err.tz", value="Nowhere/Land") in out
    assert set(people(cli)) == {"bob"}  # one bad row: nothing is written
    code, out, err = cli("staff", "import", str(good), "--yes")
    assert code == 0, out + err
    rows = people(cli)
    assert rows["李雷"]["manager"] == "王芳" and rows["李雷"]["telegram_id"] == 5001
    assert rows["李雷"]["notify"] == "telegram" and rows["bob"]["team"] == "east"
