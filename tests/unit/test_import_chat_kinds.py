"""`/import` in chat for contacts, follow-ups and purchases: the kind named with the file (or told from its
headers) is checked, kept with the upload, imported by the button once, and named in every message."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select

from bot.console.driver import ConsoleSession
from handlers import actions
from handlers.i18n import t
from handlers.services.import_kinds import detect_kind
from handlers.views import walk_actions
from storage.db import session_scope
from storage.models import AuditLog, Contact, FollowUp, Purchase
from tests import factories as f
from tests.says import says

FU = ["客户编号", "跟进日期", "跟进方式", "沟通内容", "跟进人"]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


@pytest.fixture
def world(engine):
    with session_scope(engine) as s:
        boss = f.staff(s, name="boss", role="admin")
        rita = f.staff(s, name="rita", role="rep")
        zoe = f.staff(s, name="zoe", role="rep", lang="zh")
        acme = f.customer(s, name="Acme", owner=rita, contact=None)
        return {"boss": boss.id, "rita": rita.id, "zoe": zoe.id, "acme": acme.id, "code": acme.code}


def token(con: ConsoleSession, core, i: int = 0) -> str:  # noqa: ANN001
    return actions.encode(walk_actions(con.last_reply)[i].cmd, scope=con.scopes[0], secret=core.secret,
                          now=core.clock())


def rows_of(engine, model) -> list:  # noqa: ANN001
    with session_scope(engine) as s:
        got = s.scalars(select(model)).all()
        s.expunge_all()
        return list(got)


def test_followups_named_in_the_console_keep_author_and_date_and_import_once(core, engine, world, tmp_path,
                                                                           settings):
    p = write_csv(tmp_path / "fu.csv", [FU, [world["code"], "2026-03-02 15:30", "电话", "报价已发", "rita"],
                                        [world["code"], "2026-10-08", "拜访", "现场演示", "rita"]])
    con = ConsoleSession(core, user="boss")
    kind = t("en", "import.kind.followups")
    out = con.send(f"/import followups {p}")
    assert t("en", "import.chat.title", kind=kind, name="fu.csv") in out
    assert says(out, "import.chat.kind_said", kind=kind) and says(out, "import.chat.ready", count=2, kind=kind)
    assert t("en", "import.btn.import", kind=kind, count=2) in out
    assert rows_of(engine, FollowUp) == []  # a dry run
    [meta] = Path(settings.upload_dir).glob("*.json")
    assert '"kind": "followups"' in meta.read_text(encoding="utf-8")  # the button imports what was checked
    press = token(con, core)
    done = con.press_token(press)
    assert t("en", "import.chat.done_title", kind=kind, name="fu.csv") in done
    assert says(done, "import.chat.done", kind=kind, created=2, updated=0, unchanged=0, skipped=0)
    assert says(done, "import.chat.done_hint_records")
    assert says(con.press_token(press), "import.err.done")  # a second press imports nothing more
    fus = sorted(rows_of(engine, FollowUp), key=lambda x: x.date)
    assert [(x.date, x.staff_id, x.method) for x in fus] == [
        (datetime(2026, 3, 2, 7, 30, tzinfo=UTC), world["rita"], "phone"),  # 15:30 in Shanghai: its author kept
        (datetime(2026, 10, 8, 4, 0, tzinfo=UTC), world["rita"], "visit")]
    with session_scope(engine) as s:
        audit = s.scalars(select(AuditLog).where(AuditLog.entity == "followup")).all()
        assert {(a.actor_id, a.new) for a in audit} == {(world["boss"], "rita")}  # the importer did it


def test_followups_told_from_the_headers_without_a_word(core, engine, world, tmp_path):
    p = write_csv(tmp_path / "fu.csv", [FU, [world["code"], "2026-03-02", "微信", "问候", "rita"]])
    con = ConsoleSession(core, user="rita")
    out = con.send(f"/import {p}")
    kind = t("en", "import.kind.followups")
    assert says(out, "import.chat.kind_found", kind=kind)
    assert "follow-ups" in con.press_token(token(con, core))
    assert [x.staff_id for x in rows_of(engine, FollowUp)] == [world["rita"]]


def test_contacts_with_the_chinese_word(core, engine, world, tmp_path):
    p = write_csv(tmp_path / "c.csv", [["客户编号", "联系人", "职位", "手机"], [world["code"], "王芳", "采购经理",
                                                                                 "13800138000"]])
    con = ConsoleSession(core, user="zoe")  # zoe may not edit rita's customer
    out = con.send(f"/import 联系人 {p}")
    assert says(out, "import.chat.kind_said", lang="zh", kind="联系人") and says(out, "import.chat.nothing", lang="zh")
    con = ConsoleSession(core, user="rita")
    out = con.send(f"/import 联系人 {p}")
    assert t("en", "import.chat.title", kind="contacts", name="c.csv") in out
    con.press_token(token(con, core))
    [c] = rows_of(engine, Contact)
    assert (c.customer_id, c.name, c.title, c.is_primary) == (world["acme"], "王芳", "采购经理", True)


def test_purchases_told_from_the_headers(core, engine, world, tmp_path):
    p = write_csv(tmp_path / "p.csv", [["customer_code", "date", "product", "amount"],
                                       [world["code"], "2026-06-01", "Server", "12000.50"]])
    con = ConsoleSession(core, user="rita")
    out = con.send(f"/import {p}")
    assert says(out, "import.chat.kind_found", kind="purchases")
    done = con.press_token(token(con, core))
    assert says(done, "import.chat.done", kind="purchases", created=1, updated=0, unchanged=0, skipped=0)
    [b] = rows_of(engine, Purchase)
    assert (b.customer_id, b.product, b.amount, b.staff_id) == (world["acme"], "Server", Decimal("12000.50"),
                                                                 world["rita"])
    assert b.date == datetime(2026, 6, 1, 4, 0, tzinfo=UTC)


def test_owner_is_for_customers_only(core, world, tmp_path):
    p = write_csv(tmp_path / "fu.csv", [FU, [world["code"], "2026-03-02", "微信", "问候", "rita"]])
    out = ConsoleSession(core, user="boss").send(f"/import followups {p} owner:rita")
    assert says(out, "import.err.owner_kind")


@pytest.mark.parametrize(("header", "kind"), [
    (FU, "followups"),
    (["customer_name", "date", "method", "content", "staff", "feedback"], "followups"),
    (["客户名称", "购买日期", "产品", "金额"], "purchases"),
    (["customer_code", "name", "title", "phone", "email"], "contacts"),
    (["客户名称", "所属行业", "客户类型", "联系人", "联系电话"], "customers"),
    (["name", "industry"], "customers"),
    (["date", "method", "content"], "customers"),  # no customer column: not a follow-up file
    (["客户名称", "联系人", "电话"], "customers"),  # a contacts file, or customers with their contact: customers
    ([], "customers"),
])
def test_the_kind_is_told_from_the_header_row(header, kind):
    assert detect_kind(header) == kind
