"""Exports: canonical field names, ISO 8601 with offset, English enum ids, codes and staff id+name."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.console.driver import ConsoleSession
from handlers import exporting
from storage.db import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import CustomerTag, FollowUp, Opportunity, Purchase, Staff, Tag, Ticket
from tests import factories as f
from tests.factories import NOW

OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")


def seed(engine) -> None:
    """alice (rep) owns 华为云; bob (rep) owns Brightway; one row of every kind."""
    with session_scope(engine) as s:
        boss = f.staff(s, name="boss", role="manager")
        alice = f.staff(s, name="alice", manager=boss)
        bob = f.staff(s, name="bob", manager=boss)
        f.staff(s, name="agnes", role="agent", team="service")
        c1 = f.customer(s, name="华为云", owner=alice, type="deal", grade="A", phone="13800138000")
        c2 = f.customer(s, name="Brightway", owner=bob, contact="Tom")
        tag = Tag(name="高预算")
        s.add(tag)
        s.flush()
        s.add(CustomerTag(customer_id=c1.id, tag_id=tag.id))
        c1.next_followup_at = NOW + timedelta(days=2)
        s.add(FollowUp(customer_id=c1.id, date=NOW, method="phone", content="=SUM(A1) looks like a formula",
                       feedback="positive", next_followup_at=NOW + timedelta(days=2), staff_id=alice.id,
                       result="key", created_at=NOW))
        s.add(FollowUp(customer_id=c2.id, date=NOW, method="visit", content="bob's", staff_id=bob.id,
                       created_at=NOW))
        s.add(Opportunity(code=c1.code + "OP01", customer_id=c1.id, name="ERP", stage="won", owner_id=alice.id,
                          expected_amount=Decimal("100000.00"), actual_amount=Decimal("98000.50"),
                          contract_no="HT1", expected_close_date=date(2026, 12, 1), created_at=NOW,
                          updated_at=NOW))
        s.add(Ticket(code="FW2026001", customer_id=c1.id, description="down", type="complaint", priority="high",
                     status="in_progress", assignee_id=None, created_at=NOW, updated_at=NOW))
        s.add(Ticket(code="FW2026002", customer_id=c2.id, description="slow", type="support", priority="low",
                     status="pending", created_at=NOW, updated_at=NOW))
        s.add(Purchase(customer_id=c1.id, date=NOW, product="CRM", amount=Decimal("1200000"), staff_id=alice.id,
                       created_at=NOW))


@pytest.fixture
def seeded(engine):
    seed(engine)
    return engine


def rows(engine, kind, **kw):
    with session_scope(engine) as s:
        return exporting.build_rows(s, kind, tz="Asia/Shanghai", **kw)


@pytest.mark.parametrize("kind", exporting.KINDS)
def test_export_rows_have_the_stable_columns(seeded, kind):
    got = rows(seeded, kind)
    assert got and all(list(r) == list(exporting.COLUMNS[kind]) for r in got)


def test_export_customer_row(seeded):
    r = next(r for r in rows(seeded, "customers") if r["name"] == "华为云")
    assert r["code"] == "ABC2026001" and r["type"] == "deal" and r["grade"] == "A"
    assert r["owner_name"] == "alice" and isinstance(r["owner_id"], int)
    assert r["tags"] == ["高预算"]
    assert OFFSET.match(r["created_at"]) and OFFSET.match(r["next_followup_at"])
    assert r["created_at"] == "2026-11-23T10:00:00+08:00"


def test_export_references_by_code_and_staff_by_id_and_name(seeded):
    fu = next(r for r in rows(seeded, "followups") if r["method"] == "phone")
    assert fu["customer_code"] == "ABC2026001" and fu["staff_name"] == "alice" and fu["feedback"] == "positive"
    assert fu["result"] == "key"
    opp = rows(seeded, "opportunities")[0]
    assert opp["code"] == "ABC2026001OP01" and opp["customer_code"] == "ABC2026001"
    assert opp["expected_close_date"] == "2026-12-01" and opp["owner_name"] == "alice"
    tk = rows(seeded, "tickets")[0]
    assert (tk["type"], tk["priority"], tk["status"]) == ("complaint", "high", "in_progress")
    assert tk["assignee_id"] is None and tk["assignee_name"] is None
    ct = next(r for r in rows(seeded, "contacts") if r["customer_code"] == "ABC2026001")
    assert ct["phone"] == "13800138000" and ct["is_primary"] is True


def test_export_where_limits_to_some_customers(seeded):
    from storage.models import Customer

    got = rows(seeded, "followups", where=Customer.name == "Brightway")
    assert [r["content"] for r in got] == ["bob's"]


def test_export_formats(seeded):
    data = rows(seeded, "opportunities")
    js = json.loads(exporting.to_json(data))
    assert isinstance(js, list) and js[0]["actual_amount"] == 98000.5 and js[0]["expected_amount"] == 100000
    table = list(csv.DictReader(io.StringIO(exporting.to_csv(data, "opportunities"))))
    assert table[0]["code"] == "ABC2026001OP01" and table[0]["actual_amount"] == "98000.5"
    assert list(table[0]) == list(exporting.COLUMNS["opportunities"])
    fus = rows(seeded, "followups")
    ws = load_workbook(io.BytesIO(exporting.to_xlsx(fus, "followups"))).active
    values = list(ws.values)
    assert list(values[0]) == list(exporting.COLUMNS["followups"])  # no reader: the canonical names
    assert "=SUM(A1) looks like a formula" in values[1] or "=SUM(A1) looks like a formula" in values[2]
    cust = rows(seeded, "customers")
    ws = load_workbook(io.BytesIO(exporting.to_xlsx(cust, "customers"))).active
    assert "高预算" in [v for row in ws.values for v in row]


# ---------------------------------------------------------------- chat /export


def test_export_chat_rep_gets_only_their_customers(core):
    seed(core.engine)
    c = ConsoleSession(core, user="alice")
    out = c.send("/export 跟进记录")
    file = c.last_reply.file
    assert file is not None and file.name.endswith(".xlsx") and "📎" in out
    ws = load_workbook(file.path).active
    body = list(ws.values)[1:]
    assert len(body) == 1 and body[0][1] == "ABC2026001"


def test_export_chat_manager_gets_everything(core):
    seed(core.engine)
    c = ConsoleSession(core, user="boss")
    c.send("/export tickets")
    ws = load_workbook(c.last_reply.file.path).active
    assert len(list(ws.values)) == 3


def test_export_chat_manager_gets_only_their_team(core):
    seed(core.engine)
    with session_scope(core.engine) as s:
        other = f.staff(s, name="olga", role="manager", team="north")
        carl = f.staff(s, name="carl", manager=other, team="north")
        f.customer(s, name="Northwind", owner=carl)
    c = ConsoleSession(core, user="olga")
    c.send("/export customers")
    body = list(load_workbook(c.last_reply.file.path).active.values)[1:]
    assert [r[1] for r in body] == ["Northwind"]


def test_export_chat_other_formats(core):
    seed(core.engine)
    c = ConsoleSession(core, user="alice")
    c.send("/export customers csv")
    file = c.last_reply.file
    assert file.name.endswith(".csv") and file.mime == "text/csv"
    body = list(csv.reader(io.StringIO(Path(file.path).read_text(encoding="utf-8"))))
    assert body[0][:2] == ["code", "name"] and len(body) == 2
    c.send("/export 跟进记录 json")
    data = json.loads(Path(c.last_reply.file.path).read_text(encoding="utf-8"))
    assert [r["customer_code"] for r in data] == ["ABC2026001"]


def test_export_chat_menu_and_agent_scope(core):
    seed(core.engine)
    c = ConsoleSession(core, user="agnes")
    c.send("/export")
    assert c.choices() == ["/export tickets"]
    assert "⚠" in c.send("/export customers") and c.last_reply.file is None
    c.send("/export")
    c.press_cmd("/export tickets")
    assert c.last_reply.file is not None
    c.send("/export bananas")
    assert c.last_reply.file is None and "/export customers" not in c.choices()


# ---------------------------------------------------------------- the CLI


def _cli(capsysbinary, *args: str) -> tuple[int, bytes, bytes]:
    from bot.cli import main

    code = main(list(args))
    out, err = capsysbinary.readouterr()
    return code, out, err


def test_export_cli_json_csv_xlsx(tmp_path, monkeypatch, capsysbinary):
    url = f"sqlite:///{tmp_path}/crm.db"
    e = make_engine(url)
    upgrade(e)
    seed(e)
    e.dispose()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    code, out, err = _cli(capsysbinary, "export", "customers", "--format", "json")
    assert code == 0, err
    data = json.loads(out.decode())
    assert [d["code"] for d in data] == ["ABC2026001", "ABC2026002"]
    assert OFFSET.match(data[0]["created_at"])
    assert b"alembic" not in err  # no migration chatter on every command
    code, out, err = _cli(capsysbinary, "export", "purchases", "--format", "csv")
    assert out.decode().splitlines()[0] == ",".join(exporting.COLUMNS["purchases"])
    code, out, err = _cli(capsysbinary, "export", "tickets", "-o", "out/t.xlsx")
    assert code == 0, err
    assert len(list(load_workbook(tmp_path / "out" / "t.xlsx").active.values)) == 3
    head = next(load_workbook(tmp_path / "out" / "t.xlsx").active.values)
    assert head[:2] == ("Code", "Customer code")  # xlsx: for a reader of CRM_DEFAULT_LANG
    code, out, err = _cli(capsysbinary, "export", "customers", "--format", "csv", "--lang", "zh")
    assert code == 0 and out.decode().splitlines()[0].startswith("客户编号,客户名称,所属行业")
    code, out, err = _cli(capsysbinary, "export", "customers", "-o", "c.xlsx", "--lang", "zh")
    assert code == 0 and next(load_workbook(tmp_path / "c.xlsx").active.values)[0] == "客户编号"
    code, out, err = _cli(capsysbinary, "export", "customers", "--format", "json", "--lang", "zh")
    assert code == 2 and b"--lang" in err and out == b""
    with pytest.raises(SystemExit) as exc:
        _cli(capsysbinary, "export", "nonsense")
    assert exc.value.code == 2


def test_every_export_leaves_an_audit_entry(core, tmp_path, monkeypatch, capsysbinary):
    """Who exported what, how many rows, in which format — never the data (PIPL/GDPR: exports are disclosed)."""
    from storage.models import AuditLog

    seed(core.engine)
    c = ConsoleSession(core, user="alice")
    c.send("/export customers csv")
    with session_scope(core.engine) as s:
        row = s.scalars(select(AuditLog).where(AuditLog.action == "export")).one()
        assert (row.entity, row.field, row.new) == ("customers", "csv", "rows=1 via=console")
        assert row.actor_id == s.scalars(select(Staff.id).where(Staff.name == "alice")).one()

    url = f"sqlite:///{tmp_path}/crm.db"
    e = make_engine(url)
    upgrade(e)
    seed(e)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    assert _cli(capsysbinary, "export", "followups", "--format", "json")[0] == 0
    with session_scope(e) as s:
        row = s.scalars(select(AuditLog).where(AuditLog.action == "export")).one()
        assert row.actor_id is None and row.entity == "followups" and row.new.startswith("rows=2 via=cli:")
    e.dispose()


# ---------------------------------------------------------------- for a reader: the handbook's names


def test_export_xlsx_for_a_chinese_reader(seeded):
    data = rows(seeded, "customers")
    wb = load_workbook(io.BytesIO(exporting.to_xlsx(data, "customers", "zh")))
    ws = wb.active
    values = list(ws.values)
    assert list(values[0][:6]) == ["客户编号", "客户名称", "所属行业", "客户类型", "客户等级", "客户标签"]
    assert values[0][12] == "录入日期" and ws.title == "客户"
    assert values[1][3] == "成交客户" and values[2][3] == "意向客户"  # enum labels, not ids
    assert values[1][2] == "IT"
    created = ws.cell(row=2, column=13)
    assert isinstance(created.value, datetime) and created.value == datetime(2026, 11, 23, 10, 0)  # local wall time
    assert created.number_format == exporting.DATETIME_FORMAT
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:P3"
    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    assert widths["B"] >= 10 and widths["M"] >= 16 and all(6 <= w <= 50 for w in widths.values())
    assert ws.cell(row=1, column=1).font.bold


def test_export_xlsx_for_an_english_reader_and_real_dates(seeded):
    ws = load_workbook(io.BytesIO(exporting.to_xlsx(rows(seeded, "opportunities"), "opportunities", "en"))).active
    values = list(ws.values)
    assert list(values[0][:7]) == ["Code", "Customer code", "Customer", "Name", "Stage", "Expected amount",
                                   "Expected close"]
    assert values[1][4] == "won" and values[1][5] == 100000 and values[1][7] == 98000.5
    close = ws.cell(row=2, column=7)
    assert close.value == datetime(2026, 12, 1) and close.number_format == exporting.DATE_FORMAT
    fus = list(load_workbook(io.BytesIO(exporting.to_xlsx(rows(seeded, "followups"), "followups", "zh"))).active.values)
    assert fus[0][4:7] == ("跟进方式", "沟通内容", "客户反馈") and fus[1][4] == "电话" and fus[1][6] == "积极"


def test_export_csv_keeps_the_canonical_names_unless_a_language_is_asked(seeded):
    data = rows(seeded, "tickets")
    plain = list(csv.reader(io.StringIO(exporting.to_csv(data, "tickets"))))
    assert plain[0][:7] == ["code", "customer_code", "customer_name", "contact_name", "type", "priority", "status"]
    assert plain[1][4:7] == ["complaint", "high", "in_progress"]
    zh = list(csv.reader(io.StringIO(exporting.to_csv(data, "tickets", "zh"))))
    assert zh[0][:1] + zh[0][4:7] == ["工单编号", "问题类型", "紧急程度", "处理状态"]
    assert zh[1][4:7] == ["投诉", "高", "处理中"]


def test_export_chat_xlsx_follows_the_readers_language(core):
    seed(core.engine)
    c = ConsoleSession(core, user="alice")
    c.send("/lang zh")
    c.send("/export 客户")
    head = next(load_workbook(c.last_reply.file.path).active.values)
    assert head[:3] == ("客户编号", "客户名称", "所属行业")
    c.send("/export 客户 csv")
    assert Path(c.last_reply.file.path).read_text(encoding="utf-8").startswith("code,name,industry")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_export_for_a_reader_comes_back_through_the_importer(seeded, tmp_path, lang):
    from handlers.context import Ctx
    from handlers.services.importing import import_customers
    from handlers.settings import DomainSettings
    from storage.models import Staff

    path = tmp_path / f"c-{lang}.xlsx"
    path.write_bytes(exporting.to_xlsx(rows(seeded, "customers"), "customers", lang))
    with session_scope(seeded) as s:
        boss = s.scalar(select(Staff).where(Staff.name == "boss"))
        ctx = Ctx(session=s, now=NOW, settings=DomainSettings(_env_file=None), platform="console",
                  chat_ref="@boss", user_ref="boss", lang="en", staff=boss)
        report = import_customers(ctx, path, apply=False)
    assert report.unknown_columns == [] and report.problems == []
    assert report.unchanged == [2, 3] and report.created == [] and report.updated == []
