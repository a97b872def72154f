"""Customers from a spreadsheet (`handlers.services.importing`, `crm-bot import customers`)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook
from sqlmodel import select

from bot.cli import main
from handlers.context import Ctx
from handlers.i18n import t
from handlers.services.importing import import_customers
from storage.db import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import AuditLog, Contact, Customer
from tests import factories as f
from tests.factories import NOW

ZH_HEAD = ["客户名称", "所属行业", "客户类型", "联系人", "联系电话", "客户标签", "负责人", "备注", "微信"]
EN_HEAD = ["name", "industry", "type", "contact", "phone", "tags", "owner", "notes"]


@pytest.fixture
def ctx(session, settings):
    boss = f.staff(session, name="boss", role="admin")
    f.staff(session, name="alice")
    return Ctx(session=session, now=NOW, settings=settings, platform="console", chat_ref="@boss",
               user_ref="boss", lang="en", staff=boss)


def _csv(path, rows, encoding="utf-8"):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _customers(session):
    return {c.name: c for c in session.scalars(select(Customer))}


def test_gbk_csv_with_chinese_headers_creates_customers_with_codes_and_audit(ctx, session, tmp_path):
    p = _csv(tmp_path / "c.csv", [ZH_HEAD, ["杭州云栖", "金融", "意向客户", "张伟", "138 0013 8000", "高预算，华东",
                                            "alice", "老客户介绍", "wx1"],
                                  ["星河贸易", "IT", "潜在客户", "", "", "", "", "", ""]], encoding="gbk")
    report = import_customers(ctx, p, apply=True)
    assert report.encoding == "gb18030" and report.ok and report.applied
    assert report.unknown_columns == ["微信"] and report.created == [2, 3]
    cs = _customers(session)
    assert cs["杭州云栖"].industry == "finance" and cs["杭州云栖"].owner_id != ctx.staff.id  # alice
    assert cs["星河贸易"].owner_id == ctx.staff.id and cs["星河贸易"].type == "potential"
    assert sorted(c.code for c in cs.values()) == ["ABC2026001", "ABC2026002"]  # gap-free
    assert session.scalar(select(Contact.phone).where(Contact.customer_id == cs["杭州云栖"].id)) == "13800138000"
    assert len(session.scalars(select(AuditLog).where(AuditLog.action == "create")).all()) == 2


def test_utf8_bom_and_english_headers(ctx, session, tmp_path):
    p = _csv(tmp_path / "c.csv", [EN_HEAD, ["Brightway", "IT", "intent", "Tom", "+14155550123", "", "", ""]],
             encoding="utf-8-sig")
    report = import_customers(ctx, p, apply=True)
    assert report.encoding == "utf-8-sig" and report.columns["name"] == "name" and report.created == [2]
    assert "Brightway" in _customers(session)


def test_bad_rows_write_nothing_and_every_problem_is_reported_by_row_and_field(ctx, session, tmp_path):
    p = _csv(tmp_path / "c.csv", [EN_HEAD, ["Good one", "IT", "intent", "", "", "", "", ""],
                                  ["Bad", "spaceships", "intent", "", "12345", "", "nobody", ""],
                                  ["", "IT", "intent", "", "", "", "", "no name"]])
    report = import_customers(ctx, p, apply=True)
    assert not report.applied and report.created == [2] and report.skipped == [3, 4]
    assert {(p.row, p.field) for p in report.problems} == {(3, "industry"), (3, "phone"), (3, "owner"),
                                                           (4, "name")}
    assert _customers(session) == {}


def test_only_good_writes_the_good_rows(ctx, session, tmp_path):
    p = _csv(tmp_path / "c.csv", [EN_HEAD, ["Good one", "IT", "intent", "", "", "", "", ""],
                                  ["Bad", "IT", "intent", "", "12345", "", "", ""]])
    report = import_customers(ctx, p, apply=True, only_good=True)
    assert report.applied and list(_customers(session)) == ["Good one"]


def test_duplicates_inside_the_file_are_problems(ctx, session, tmp_path):
    p = _csv(tmp_path / "c.csv", [EN_HEAD, ["Acme", "IT", "intent", "", "13800138000", "", "", ""],
                                  ["ACME ", "IT", "intent", "", "", "", "", ""],
                                  ["Other", "IT", "intent", "", "13800138000", "", "", ""]])
    report = import_customers(ctx, p)
    assert [(p.row, p.message) for p in report.problems] == [
        (3, t("en", "import.err.duplicate", row=2)), (4, t("en", "import.err.duplicate", row=2))]


def test_xlsx_rows_match_existing_customers_by_name_and_update(ctx, session, tmp_path):
    c = f.customer(session, name="Acme", owner=ctx.staff)
    wb = Workbook()
    wb.active.append(["客户编号", "客户名称", "所属行业", "客户类型", "备注"])
    wb.active.append([c.code, "Acme", "IT", "intent", "new note"])
    wb.active.append([None, "Newco", "IT", "deal", None])
    wb.save(tmp_path / "c.xlsx")
    report = import_customers(ctx, tmp_path / "c.xlsx", apply=True)
    assert report.encoding == "xlsx" and report.updated == [2] and report.created == [3]
    assert c.notes == "new note"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_comes_back_unchanged(tmp_path, monkeypatch, capsys, fmt):
    url = f"sqlite:///{tmp_path}/crm.db"
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as s:
        boss = f.staff(s, name="boss", role="admin")
        f.customer(s, name="华为云", owner=boss, type="deal", grade="A", phone="13800138000")
        f.customer(s, name="O'Brien, \"quoted\"", owner=boss)
    engine.dispose()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["export", "customers", "-o", f"c.{fmt}"]) == 0
    capsys.readouterr()
    assert main(["import", "customers", f"c.{fmt}", "--yes"]) == 0
    out = capsys.readouterr().out
    assert t("en", "import.summary", rows=2, created=0, updated=0, unchanged=2, skipped=0) in out


def test_cli_all_or_nothing_exit_code_and_report(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path}/crm.db"
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as s:
        f.staff(s, name="boss", role="admin")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    _csv(tmp_path / "c.csv", [EN_HEAD, ["A", "IT", "intent", "", "", "", "", ""],
                              ["B", "IT", "intent", "", "bad", "", "", ""]])
    assert main(["import", "customers", "c.csv", "--yes"]) == 1
    assert "Row 3" in capsys.readouterr().out
    assert main(["import", "customers", "c.csv", "--yes", "--only-good"]) == 0
    with session_scope(engine) as s:
        assert [c.name for c in s.scalars(select(Customer))] == ["A"]
    engine.dispose()


def test_many_rows_in_batches_then_the_same_file_again_changes_nothing(ctx, session, tmp_path, monkeypatch):
    from handlers.services import import_engine

    monkeypatch.setattr(import_engine, "BATCH", 50)
    rows = [[f"Firma {i:03d}", "IT", "intent", "", f"139{i:08d}", "a,b" if i % 7 == 0 else "", "", ""]
            for i in range(120)]
    p = _csv(tmp_path / "c.csv", [EN_HEAD, *rows])
    seen: list[int] = []
    report = import_customers(ctx, p, apply=True, progress=seen.append)
    assert report.applied and len(report.created) == 120 and seen == [50, 100, 120, 0, 50, 100, 120]  # checked, then written
    codes = sorted(session.scalars(select(Customer.code)))
    assert codes == [f"ABC2026{i:03d}" for i in range(1, 121)]
    assert len(session.scalars(select(AuditLog).where(AuditLog.action == "create")).all()) == 120
    again = import_customers(ctx, p, apply=True)
    assert len(again.unchanged) == 120 and not again.created and not again.updated


def test_a_rep_imports_as_owner_but_cannot_update_someone_elses_customer(session, settings, tmp_path):
    alice, bob = f.staff(session, name="alice"), f.staff(session, name="bob")
    f.customer(session, name="Bob's", owner=bob)
    ctx = Ctx(session=session, now=NOW, settings=settings, platform="console", chat_ref="@alice",
              user_ref="alice", lang="en", staff=alice)
    p = _csv(tmp_path / "c.csv", [EN_HEAD, ["Mine", "IT", "intent", "", "", "", "alice", ""],
                                  ["Bob's", "IT", "intent", "", "", "", "", "mine now"]])
    report = import_customers(ctx, p, apply=True)
    assert report.created == [2] and report.skipped == [3] and not report.applied
    assert [(x.row, x.message) for x in report.problems] == [(3, t("en", "cust.err.edit_forbidden"))]


def test_two_rows_about_one_saved_customer_are_duplicates_and_the_import_is_audited(ctx, session, tmp_path):
    c = f.customer(session, name="Acme", owner=ctx.staff)
    p = _csv(tmp_path / "c.csv", [["客户编号", "客户名称", "所属行业", "客户类型", "备注"],
                                  ["", "ACME", "IT", "intent", "by name"],
                                  [c.code, "Acme Holding", "IT", "intent", "by code"],
                                  ["", "Newco", "IT", "intent", ""]])
    report = import_customers(ctx, p, apply=True, only_good=True, on_progress=(seen := []).append)
    assert [(x.row, x.message) for x in report.problems] == [(3, t("en", "import.err.duplicate", row=2))]
    assert report.updated == [2] and report.created == [4] and seen == [3, 0, 2]
    assert c.notes == "by name" and c.name == "ACME"  # matched by its normalised name, spelt as the file does
    (entry,) = session.scalars(select(AuditLog).where(AuditLog.action == "import")).all()
    assert (entry.actor_id, entry.entity_code, entry.new) == (ctx.staff.id, "customers", "c.csv: 1 created, 1 updated")


def test_imported_contacts_are_found_by_any_spelling_of_their_phone_and_email(ctx, session, tmp_path):
    """A bulk insert bypasses the ORM's save events: the rows carry their searchable phone and e-mail."""
    from handlers.lookup import search

    p = _csv(tmp_path / "c.csv", [["name", "industry", "type", "contact", "phone", "email"],
                                  ["Brightway", "IT", "intent", "Tom", "138 0013 8000", "Tom@Brightway.example"]])
    report = import_customers(ctx, p, apply=True)
    assert report.created == [2], report.problems
    contact = session.scalars(select(Contact)).one()
    assert (contact.phone_norm, contact.email_norm) == ("13800138000", "tom@brightway.example")
    assert [c.name for c in search(ctx, "+86 138-0013-8000").matches] == ["Brightway"]
    assert [c.name for c in search(ctx, "TOM@brightway.EXAMPLE").matches] == ["Brightway"]
