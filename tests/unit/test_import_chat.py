"""`/import` in chat, through the core as the console drives it: check, buttons, permissions, errors."""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path

import pytest
from sqlmodel import select

from bot.console.driver import ConsoleSession
from handlers import actions
from handlers.context import Attachment, Inbound
from handlers.router import Core
from handlers.views import Buttons, Error, walk_actions
from scheduler.jobs import housekeeping
from storage.db import create_all, make_engine, session_scope
from storage.models import Customer
from tests import factories as f
from tests.says import says

HEAD = ["name", "industry", "type", "contact", "phone", "owner"]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


@pytest.fixture
def people(engine):
    with session_scope(engine) as s:
        boss = f.staff(s, name="boss", role="admin")
        mgr = f.staff(s, name="mgr", role="manager", team="east")
        f.staff(s, name="rita", role="rep", team="east", manager=mgr)
        f.staff(s, name="west", role="rep", team="west")
        f.staff(s, name="aggie", role="agent", team=None)
        return {"boss": boss.id, "mgr": mgr.id}


def names(engine) -> dict[str, int | None]:
    with session_scope(engine) as s:
        return {c.name: c.owner_id for c in s.scalars(select(Customer))}


def staff_id(engine, name: str) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(f.Staff.id).where(f.Staff.name == name))


def test_console_import_checks_then_imports_on_the_button(core, engine, people, tmp_path, settings):
    p = write_csv(tmp_path / "c.csv", [HEAD, ["Acme", "IT", "intent", "Tom", "13800138000", ""],
                                       ["云栖", "金融", "潜在客户", "", "", ""]], encoding="gbk")
    con = ConsoleSession(core, user="rita")
    out = con.send(f"/import {p}")
    assert "Import check (customers): c.csv" in out and "gb18030" in out and "2 to create" in out
    assert says(out, "import.chat.ready", count=2)
    assert names(engine) == {}  # a dry run
    assert len(list(Path(settings.upload_dir).glob("*.csv"))) == 1  # kept for the button, privately
    assert oct(Path(settings.upload_dir).stat().st_mode & 0o777) == "0o700"
    out = con.press_cmd("/import yes")
    assert "Imported customers: c.csv" in out and "customers: 2 created" in out
    rita = staff_id(engine, "rita")
    assert names(engine) == {"Acme": rita, "云栖": rita}
    assert list(Path(settings.upload_dir).iterdir()) == []  # the file is gone once imported


def test_a_second_press_imports_once_and_says_so(core, engine, people, tmp_path):
    p = write_csv(tmp_path / "c.csv", [HEAD, ["Acme", "IT", "intent", "", "", ""]])
    con = ConsoleSession(core, user="rita")
    con.send(f"/import {p}")
    token = actions.encode(walk_actions(con.last_reply)[0].cmd, scope=con.scopes[0], secret=core.secret,
                           now=core.clock())
    assert "Imported" in con.press_token(token)
    again = con.press_token(token)
    assert says(again, "import.err.done")
    assert list(names(engine)) == ["Acme"]


@pytest.fixture(params=["sqlite_file", "postgresql"])
def race_engine(request, tmp_path):
    if request.param == "postgresql":
        yield request.getfixturevalue("pg_db")
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    create_all(engine)
    yield engine
    engine.dispose()


def test_double_press_at_once_imports_once(race_engine, tmp_path, settings, clock):
    """Two presses racing (two threads; a SQLite file, and PostgreSQL): one import, the other finds it done."""
    engine = race_engine
    core = Core(engine, settings, secret=b"s", clock=clock)
    with session_scope(engine) as s:
        f.staff(s, name="rita", role="rep")
    rows = [HEAD] + [[f"Firm {i}", "IT", "intent", "", "", ""] for i in range(300)]
    p = write_csv(tmp_path / "c.csv", rows)
    con = ConsoleSession(core, user="rita")
    con.send(f"/import {p}")
    cmd = walk_actions(con.last_reply)[0].cmd
    token = actions.encode(cmd, scope=con.scopes[0], secret=core.secret, now=core.clock())
    inbound = Inbound(platform="console", user_ref="rita", chat_ref="@rita", token=token, scopes=con.scopes)
    replies = []
    threads = [threading.Thread(target=lambda: replies.append(core.handle(inbound))) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    texts = sorted(" ".join(getattr(v, "text", "") for v in r.views) for r in replies)
    assert len(names(engine)) == 300
    assert sum("Imported" in x for x in texts) == 1, texts


def test_cancel_deletes_the_file_and_the_button_then_says_done(core, engine, people, tmp_path, settings):
    p = write_csv(tmp_path / "c.csv", [HEAD, ["Acme", "IT", "intent", "", "", ""]])
    con = ConsoleSession(core, user="rita")
    con.send(f"/import {p}")
    yes = walk_actions(con.last_reply)[0].cmd
    out = con.press_cmd("/import cancel")
    assert says(out, "import.chat.cancelled", name="c.csv")
    assert list(Path(settings.upload_dir).iterdir()) == []
    assert says(con.send(yes), "import.err.done")
    assert names(engine) == {}


def test_bad_rows_offer_only_the_good_ones(core, engine, people, tmp_path):
    p = write_csv(tmp_path / "c.csv", [HEAD, ["Good", "IT", "intent", "", "", ""],
                                       ["Bad", "spaceships", "intent", "", "123", ""]])
    con = ConsoleSession(core, user="rita")
    out = con.send(f"/import {p}")
    assert "Row 3" in out and says(out, "import.chat.bad_rows", bad=1, count=1)
    assert [a.cmd.split()[1] for a in walk_actions(con.last_reply)] == ["good", "cancel"]
    out = con.press_cmd("/import good")
    assert "customers: 1 created" in out and "1 skipped" in out
    assert list(names(engine)) == ["Good"]


def test_someone_else_cannot_press_and_a_forged_key_is_gone(core, engine, people, tmp_path):
    p = write_csv(tmp_path / "c.csv", [HEAD, ["Acme", "IT", "intent", "", "", ""]])
    rita = ConsoleSession(core, user="rita")
    rita.send(f"/import {p}")
    cmd = walk_actions(rita.last_reply)[0].cmd
    boss = ConsoleSession(core, user="boss")
    assert says(boss.send(cmd), "import.err.not_yours")
    assert says(boss.send("/import yes AAAAAAAAAAAAAAAA"), "import.err.gone")
    assert says(boss.send("/import yes ../../etc/passwd"), "import.err.gone")
    assert names(engine) == {}


def test_an_unused_file_expires(core, engine, people, tmp_path, clock, settings):
    p = write_csv(tmp_path / "c.csv", [HEAD, ["Acme", "IT", "intent", "", "", ""]])
    con = ConsoleSession(core, user="rita")
    con.send(f"/import {p}")
    cmd = walk_actions(con.last_reply)[0].cmd
    clock.advance(hours=25)
    assert says(con.send(cmd), "import.err.gone")
    assert list(Path(settings.upload_dir).iterdir()) == []


def test_owners_reps_own_book_managers_their_team_admins_anyone(core, engine, people, tmp_path):
    p = write_csv(tmp_path / "c.csv", [HEAD, ["Acme", "IT", "intent", "", "", ""]])
    rep = ConsoleSession(core, user="rita")
    assert says(rep.send(f"/import {p} owner:west"), "cust.err.owner_forbidden")
    mgr = ConsoleSession(core, user="mgr")
    assert says(mgr.send(f"/import {p} owner:west"), "cust.err.owner_team", name="west")
    out = mgr.send(f"/import {p} owner:rita")
    assert says(out, "import.chat.owner", name="rita")
    mgr.press_cmd("/import yes")
    assert names(engine) == {"Acme": staff_id(engine, "rita")}
    q = write_csv(tmp_path / "d.csv", [HEAD, ["Brightway", "IT", "intent", "", "", "west"]])
    assert "Row 2" in mgr.send(f"/import {q}")  # an owner column outside the team is a problem of its row
    boss = ConsoleSession(core, user="boss")
    boss.send(f"/import {q}")
    boss.press_cmd("/import yes")
    assert names(engine)["Brightway"] == staff_id(engine, "west")
    agent = ConsoleSession(core, user="aggie")
    assert says(agent.send(f"/import {q}"), "err.forbidden_role", verb="import")


@pytest.mark.parametrize(("name", "content", "key"), [
    ("c.pdf", b"%PDF-1.4", "import.err.type"),
    ("c.xls", b"\xd0\xcf\x11\xe0", "import.err.old_excel"),
    ("c.csv", b"", "import.err.empty"),
    ("c.csv", b"name,industry,type\n", "import.err.empty"),
    ("c.xlsx", b"not a zip at all", "import.err.unreadable"),
    ("c.xlsx", b"PK\x05\x06" + b"\x00" * 18, "import.err.unreadable"),  # an empty zip: no workbook in it
    ("c.csv", b"name,industry\n\x00\x00\x00\xff\xfe\x00", "import.err.encoding"),
])
def test_files_we_cannot_take_get_a_short_answer(core, people, tmp_path, name, content, key, settings):
    p = tmp_path / name
    p.write_bytes(content)
    for lang in ("en", "zh"):
        inbound = Inbound(platform="telegram", user_ref="1", chat_ref="1", text="",
                          attachment=Attachment(name=name, size=len(content), path=str(p)))
        with session_scope(core.engine) as s:
            st = s.scalar(select(f.Staff).where(f.Staff.name == "rita"))
            st.telegram_id, st.lang = 1, lang
        r = core.handle(inbound)
        assert isinstance(r.views[0], Error), r
        assert says(r.views[0].text, key, lang=lang)
    assert not Path(settings.upload_dir).exists() or list(Path(settings.upload_dir).iterdir()) == []


def test_too_big_and_not_downloaded(core, people, settings):
    with session_scope(core.engine) as s:
        s.scalar(select(f.Staff).where(f.Staff.name == "rita")).telegram_id = 1
    big = Attachment(name="c.csv", size=(settings.import_max_mb + 1) << 20)
    r = core.handle(Inbound(platform="telegram", user_ref="1", chat_ref="1", attachment=big))
    assert says(r.views[0].text, "import.err.too_big", size=f"{settings.import_max_mb + 1:.1f}",
                max=settings.import_max_mb)
    r = core.handle(Inbound(platform="telegram", user_ref="1", chat_ref="1",
                            attachment=Attachment(name="c.csv", size=10)))
    assert says(r.views[0].text, "import.err.download", name="c.csv")


def test_a_file_from_a_customer_or_stranger_is_not_read(core, people, tmp_path):
    p = write_csv(tmp_path / "c.csv", [HEAD, ["Acme", "IT", "intent", "", "", ""]])
    r = core.handle(Inbound(platform="telegram", user_ref="777", chat_ref="777",
                            attachment=Attachment(name="c.csv", size=p.stat().st_size, path=str(p))))
    assert says(r.views[0].text, "auth.stranger")


def test_import_without_a_file_says_where_to_send_it(core, people):
    out = ConsoleSession(core, user="rita").send("/import")
    assert says(out, "import.chat.how_console")
    with session_scope(core.engine) as s:
        s.scalar(select(f.Staff).where(f.Staff.name == "rita")).telegram_id = 1
    r = core.handle(Inbound(platform="telegram", user_ref="1", chat_ref="1", text="/import"))
    assert says(r.views[0].text, "import.chat.how_telegram", max=20)
    assert not any(isinstance(v, Buttons) for v in r.views)


def test_progress_is_shown_while_importing(core, engine, people, tmp_path):
    rows = [HEAD] + [[f"Firm {i}", "IT", "intent", "", "", ""] for i in range(2500)]
    p = write_csv(tmp_path / "big.csv", rows)
    con = ConsoleSession(core, user="rita")
    con.send(f"/import {p}")
    token = actions.encode(walk_actions(con.last_reply)[0].cmd, scope=con.scopes[0], secret=core.secret,
                           now=core.clock())
    seen = []
    r = core.handle(Inbound(platform="console", user_ref="rita", chat_ref="@rita", token=token, scopes=con.scopes),
                    progress=seen.append)
    pcts = [int(x.views[0].text.rsplit(" ", 1)[1].rstrip("%")) for x in seen]
    assert pcts[0] == 0 and len(pcts) >= 3 and pcts == sorted(pcts) and max(pcts) < 100
    assert all(x.replace for x in seen) and r.replace
    assert len(names(engine)) == 2500


def test_console_path_that_is_no_file(core, people, tmp_path):
    con = ConsoleSession(core, user="rita")
    assert says(con.send(f"/import {tmp_path / 'missing.csv'}"), "import.err.no_file")
    assert says(con.send(f"/import {tmp_path}"), "import.err.no_file")  # a folder


def test_housekeeping_sweeps_files_nobody_pressed(core, engine, people, tmp_path, clock, settings):
    p = write_csv(tmp_path / "c.csv", [HEAD, ["Acme", "IT", "intent", "", "", ""]])
    ConsoleSession(core, user="rita").send(f"/import {p}")
    kept = Path(settings.upload_dir)
    with session_scope(engine) as s:
        housekeeping.run(s, now=clock.now, settings=settings, channels={})
    assert len(list(kept.iterdir())) == 2  # not expired yet: the file and what it is for
    with session_scope(engine) as s:
        housekeeping.run(s, now=clock.advance(hours=25), settings=settings, channels={})
    assert list(kept.iterdir()) == []
