"""Contacts, follow-ups and purchases from a spreadsheet (`handlers.services.import_kinds`,
`crm-bot import contacts|followups|purchases`): GBK/BOM/XLSX, zh and en headers, bad rows, all or nothing,
the export's files back in unchanged, follow-ups keep their date and author."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import Workbook
from sqlmodel import select

from bot.cli import main
from handlers.context import Ctx
from handlers.i18n import t
from handlers.services.import_kinds import import_contacts, import_followups, import_purchases
from storage.db import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import AuditLog, Contact, Customer, FollowUp, Purchase
from tests import factories as f
from tests.factories import NOW


def _ctx(session, settings, who):
    return Ctx(session=session, now=NOW, settings=settings, platform="console", chat_ref=f"@{who.name}",
               user_ref=who.name, lang="en", staff=who)


@pytest.fixture
def world(session, settings):
    boss = f.staff(session, name="boss", role="admin")
    mary = f.staff(session, name="mary", role="manager")
    alice = f.staff(session, name="alice", manager=mary)
    acme = f.customer(session, name="Acme", owner=alice)  # ABC2026001, contact 张伟
    beta = f.customer(session, name="北方贸易", owner=alice, contact=None)  # ABC2026002
    return {"ctx": _ctx(session, settings, boss), "boss": boss, "mary": mary, "alice": alice, "acme": acme,
            "beta": beta}


def _csv(path, rows, encoding="utf-8"):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _audit(session, **where):
    q = select(AuditLog)
    for k, v in where.items():
        q = q.where(getattr(AuditLog, k) == v)
    return session.scalars(q.order_by(AuditLog.id)).all()


# ---------------------------------------------------------------- contacts


def test_contacts_gbk_zh_headers_create_contacts_first_one_primary_with_audit(world, session, tmp_path):
    p = _csv(tmp_path / "k.csv", [["客户编号", "联系人", "职位", "电话", "邮箱", "微信"],
                                  ["ABC2026002", "李娜", "采购经理", "139 0000 0001", "lina@example.com", "x"],
                                  ["ABC2026002", "王强", "", "", "", ""],
                                  ["abc2026001", "赵敏", "CTO", "+86 13900000003", "", ""]], encoding="gbk")
    report = import_contacts(world["ctx"], p, apply=True)
    assert report.encoding == "gb18030" and report.ok and report.applied and report.unknown_columns == ["微信"]
    assert report.created == [2, 3, 4]
    beta = {k.name: k for k in session.scalars(select(Contact).where(Contact.customer_id == world["beta"].id))}
    assert beta["李娜"].is_primary and not beta["王强"].is_primary and beta["李娜"].phone == "13900000001"
    zhao = session.scalar(select(Contact).where(Contact.name == "赵敏"))
    assert zhao.customer_id == world["acme"].id and not zhao.is_primary and zhao.phone == "13900000003"
    added = _audit(session, field="add_contact")
    assert [(a.entity_code, a.actor_id) for a in added] == [("ABC2026002", world["boss"].id)] * 2 + [
        ("ABC2026001", world["boss"].id)]
    (entry,) = _audit(session, action="import")
    assert entry.entity_code == "contacts" and "3 created" in entry.new


def test_contacts_en_headers_by_name_update_a_changed_phone_and_bad_rows_write_nothing(world, session, tmp_path):
    head = ["customer_name", "name", "phone", "email"]
    p = _csv(tmp_path / "k.csv", [head, ["Acme", "张伟", "13900000009", ""],
                                  ["Nobody Ltd", "Tom", "", ""],
                                  ["北方贸易", "Ann", "12345", "not-an-email"],
                                  ["北方贸易", "", "13900000010", ""],
                                  ["Acme", "张伟", "", ""]])
    report = import_contacts(world["ctx"], p, apply=True)
    assert not report.applied and report.updated == [2] and report.skipped == [3, 4, 5, 6]
    assert {(x.row, x.field) for x in report.problems} == {
        (3, "customer_name"), (4, "phone"), (4, "email"), (5, "name"), (6, "")}
    assert [x.message for x in report.problems if x.row == 6] == [t("en", "import.err.duplicate_row", row=2)]
    assert session.scalar(select(Contact.phone).where(Contact.name == "张伟")) is None  # nothing written
    report = import_contacts(world["ctx"], p, apply=True, only_good=True)
    assert report.applied and session.scalar(select(Contact.phone).where(Contact.name == "张伟")) == "13900000009"
    (a,) = _audit(session, field="contact.phone")
    assert (a.old, a.new, a.entity_code) == (None, "13900000009", "ABC2026001")


def test_contacts_of_a_customer_the_importer_may_not_edit_are_refused(world, session, settings, tmp_path):
    bob = f.staff(session, name="bob")
    p = _csv(tmp_path / "k.csv", [["customer_code", "name"], ["ABC2026001", "Tom"]])
    report = import_contacts(_ctx(session, settings, bob), p, apply=True)
    assert not report.applied and [(x.row, x.message) for x in report.problems] == [
        (2, t("en", "lookup.not_found", query="ABC2026001"))]  # not visible: as if it did not exist


# ---------------------------------------------------------------- follow-ups


FU_ZH = ["客户名称", "跟进日期", "跟进方式", "沟通内容", "客户反馈", "下次跟进时间", "结果状态", "跟进人"]


def test_followups_keep_their_date_and_author_bom_csv_zh_headers(world, session, tmp_path):
    p = _csv(tmp_path / "fu.csv", [FU_ZH,
                                   ["Acme", "2026-03-02 15:30", "电话", "报价已发", "积极", "2026-03-09", "持续跟进", "alice"],
                                   ["Acme", "2026/10/8", "拜访", "现场演示", "", "2026-12-01 10:00", "", "mary"],
                                   ["北方贸易", "2026年5月1日", "微信", "问候", "中性", "", "", "alice"]],
             encoding="utf-8-sig")
    report = import_followups(world["ctx"], p, apply=True)
    assert report.encoding == "utf-8-sig" and report.ok and report.applied and report.created == [2, 3, 4]
    fus = session.scalars(select(FollowUp).order_by(FollowUp.date)).all()
    alice, mary = world["alice"].id, world["mary"].id
    assert [(x.date, x.staff_id, x.method) for x in fus] == [
        (datetime(2026, 3, 2, 7, 30, tzinfo=UTC), alice, "phone"),  # 15:30 in Shanghai (the importer's zone)
        (datetime(2026, 5, 1, 4, 0, tzinfo=UTC), alice, "wechat"),  # a day alone: its local noon
        (datetime(2026, 10, 8, 4, 0, tzinfo=UTC), mary, "visit")]
    assert fus[0].feedback == "positive" and fus[0].result == "continue" and fus[0].created_at == NOW
    # only the latest call's next follow-up is owed; the customer's times follow
    assert fus[0].done_at == NOW and fus[2].done_at is None and fus[2].assignee_id == alice  # the owner owes it
    acme = session.get(Customer, world["acme"].id)
    assert acme.last_followup_at == fus[2].date and acme.next_followup_at == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    logged = _audit(session, entity="followup")
    assert {(a.actor_id, a.field, a.new) for a in logged} == {(world["boss"].id, "staff", "alice"),
                                                             (world["boss"].id, "staff", "mary")}
    assert import_followups(world["ctx"], p).unchanged == [2, 3, 4]  # the same file again adds nothing


def test_followups_bad_rows_future_date_unknown_or_forbidden_author(world, session, settings, tmp_path):
    head = ["customer_code", "date", "method", "content", "staff_name"]
    p = _csv(tmp_path / "fu.csv", [head, ["ABC2026001", "2026-11-01", "phone", "ok", "alice"],
                                   ["ABC2026001", "2027-01-01", "phone", "later", "alice"],
                                   ["ABC2026001", "2026-11-02", "fax", "", "ghost"],
                                   ["ABC2026001", "", "phone", "no date", "mary"],
                                   ["ABC2026001", "2026-11-03", "phone", "by whom?", ""],
                                   ["ABC2026001", "2026-11-04", "phone", "al is not alice", "al"]])
    report = import_followups(_ctx(session, settings, world["alice"]), p, apply=True)
    assert not report.applied and report.created == [2] and session.scalars(select(FollowUp)).all() == []
    assert {(x.row, x.field) for x in report.problems} == {
        (3, "date"), (4, "method"), (4, "content"), (4, "staff"), (5, "date"), (5, "staff"), (6, "staff"),
        (7, "staff")}
    assert t("en", "fu.by_forbidden", name="mary") in [x.message for x in report.problems if x.row == 5]
    assert [x.message for x in report.problems if x.row == 3] == [t("en", "import.err.future", value="2027-01-01")]


def test_a_complaint_trace_is_not_imported_as_a_new_follow_up(world, session, tmp_path):
    p = _csv(tmp_path / "fu.csv", [["customer_code", "date", "method", "content", "staff_name"],
                                   ["ABC2026001", "2026-11-01", "service", "called back", "boss"]])
    report = import_followups(world["ctx"], p, apply=True)
    assert not report.applied and [(x.row, x.field, x.message) for x in report.problems] == [
        (2, "method", t("en", "import.err.service_trace"))]


def test_followups_by_someone_who_has_left_are_history_too(world, session, tmp_path):
    f.staff(session, name="老王", manager=world["mary"], active=False)
    p = _csv(tmp_path / "fu.csv", [["客户编号", "跟进日期", "跟进方式", "沟通内容", "跟进人"],
                                   ["ABC2026001", "2025-06-01", "电话", "老客户", "老王"]])
    report = import_followups(world["ctx"], p, apply=True)
    assert report.applied and session.scalar(select(FollowUp.staff_id)) != world["boss"].id


# ---------------------------------------------------------------- purchases


def test_purchases_xlsx_regrade_like_the_purchase_command_and_come_back_unchanged(world, session, tmp_path):
    wb = Workbook()
    wb.active.append(["customer_code", "date", "product", "amount", "staff_name"])
    wb.active.append(["ABC2026001", datetime(2026, 9, 1), "ERP 年度许可", 800000, "alice"])
    wb.active.append(["ABC2026001", "2026-10-15", "实施服务", "30万", None])
    wb.active.append(["ABC2026002", "2024-01-01", "旧单", "1000", None])
    wb.save(tmp_path / "p.xlsx")
    report = import_purchases(world["ctx"], tmp_path / "p.xlsx", apply=True)
    assert report.encoding == "xlsx" and report.ok and report.created == [2, 3, 4]
    ps = session.scalars(select(Purchase).order_by(Purchase.date)).all()
    assert [(p.date, p.amount, p.staff_id) for p in ps] == [
        (datetime(2024, 1, 1, 4, 0, tzinfo=UTC), 1000, world["boss"].id),
        (datetime(2026, 9, 1, 4, 0, tzinfo=UTC), 800000, world["alice"].id),
        (datetime(2026, 10, 15, 4, 0, tzinfo=UTC), 300000, world["boss"].id)]
    assert session.get(Customer, world["acme"].id).grade == "A"  # 1.1 M within the year
    assert session.get(Customer, world["beta"].id).grade == "C"  # an old purchase: out of the year
    assert [a.new for a in _audit(session, field="grade")] == ["A", "C"]
    assert len(_audit(session, action="purchase")) == 3
    again = import_purchases(world["ctx"], tmp_path / "p.xlsx", apply=True)
    assert again.unchanged == [2, 3, 4] and not again.applied


def test_purchases_bad_amount_and_unknown_customer_write_nothing(world, session, tmp_path):
    p = _csv(tmp_path / "p.csv", [["客户编号", "购买日期", "产品", "金额"], ["ABC2026001", "2026-11-01", "A", "100"],
                                  ["ABC2026001", "2026-11-01", "B", "-5"], ["ABC2099999", "2026-11-01", "C", "5"]])
    report = import_purchases(world["ctx"], p, apply=True)
    assert not report.applied and {(x.row, x.field) for x in report.problems} == {(3, "amount"), (4, "customer_code")}
    assert session.scalars(select(Purchase)).all() == []


# ---------------------------------------------------------------- the export's files come back in


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/crm.db"
    engine = make_engine(url)
    upgrade(engine)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    yield engine
    engine.dispose()


def _fill(s):
    boss = f.staff(s, name="boss", role="admin")
    alice = f.staff(s, name="alice", manager=boss)
    acme = f.customer(s, name="Acme", owner=alice, phone="13800138000", email="zw@acme.cn")
    s.add(Contact(customer_id=acme.id, name="O'Brien, \"Jr\"", title="CFO", created_at=NOW))
    when = datetime(2026, 11, 20, 3, 4, 5, 678_000, tzinfo=UTC)  # sub-second: the export writes whole seconds
    s.add(FollowUp(customer_id=acme.id, date=when, method="visit", content="多行\n内容, \"引号\"", feedback="positive",
                   next_followup_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC), staff_id=alice.id,
                   assignee_id=alice.id, created_at=when))
    s.add(FollowUp(customer_id=acme.id, date=when, method="service", content="投诉 FW2026001 已联系", staff_id=boss.id,
                   created_at=when))  # a complaint's trace: exported too
    s.add(Purchase(customer_id=acme.id, date=when, product="ERP", amount=12345.5, staff_id=alice.id, created_at=when))
    return boss, alice


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "csv-zh", "xlsx-zh", "xlsx-en"])
@pytest.mark.parametrize("kind", ["contacts", "followups", "purchases"])
def test_export_comes_back_unchanged(cli_db, capsys, kind, fmt):
    """Whatever the reader's language of the file `export` wrote (headers and enum values), it comes back."""
    with session_scope(cli_db) as s:
        _fill(s)
    fmt, _, lang = fmt.partition("-")
    assert main(["export", kind, "-o", f"x.{fmt}", *(["--lang", lang] if lang else [])]) == 0
    capsys.readouterr()
    assert main(["import", kind, f"x.{fmt}", "--yes"]) == 0
    out = capsys.readouterr().out
    rows = {"contacts": 2, "followups": 2, "purchases": 1}[kind]
    assert t("en", "import.summary", rows=rows, created=0, updated=0, unchanged=rows, skipped=0) in out
    assert "Unknown" not in out


def test_followups_exported_from_one_database_keep_date_and_author_in_another(cli_db, tmp_path, capsys, monkeypatch):
    with session_scope(cli_db) as s:
        _fill(s)
        before = [(x.date.replace(microsecond=0), x.staff_id, x.content) for x in s.scalars(select(FollowUp))
                  if x.method != "service"]  # a complaint's trace belongs to its ticket: refused, see above
    assert main(["export", "followups", "-o", "fu.csv"]) == 0
    url = f"sqlite:///{tmp_path}/other.db"
    other = make_engine(url)
    upgrade(other)
    with session_scope(other) as s:
        _fill(s)
        s.execute(FollowUp.__table__.delete())
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["import", "followups", "fu.csv", "--yes"]) == 1
    assert main(["import", "followups", "fu.csv", "--yes", "--only-good"]) == 0
    with session_scope(other) as s:
        assert [(x.date, x.staff_id, x.content) for x in s.scalars(select(FollowUp))] == before
        assert s.scalar(select(AuditLog.actor_id).where(AuditLog.entity == "followup")) == 1  # boss imported it
    other.dispose()


def test_cli_import_owner_only_with_customers_and_exit_codes(cli_db, tmp_path, capsys):
    with session_scope(cli_db) as s:
        _fill(s)
    _csv(tmp_path / "p.csv", [["customer_code", "date", "product", "amount"], ["ABC2026001", "2026-11-01", "A", "x"]])
    assert main(["import", "purchases", "p.csv", "--owner", "alice"]) == 2
    assert main(["import", "purchases", "p.csv", "--yes"]) == 1
    assert "Row 2" in capsys.readouterr().out


def test_cli_kinds_are_the_importers():
    from bot.cli_import import KINDS
    from handlers.services.import_kinds import IMPORTS

    assert tuple(IMPORTS) == KINDS


def test_cli_progress_line_counts_checked_then_written_rows(capsys):
    from bot.cli_import import Bar

    bar = Bar(rows=1000, total=400)
    for n in (500, 1000, 0, 400):
        bar(n)
    err = capsys.readouterr().err.split("\r")
    assert err[1].startswith("checking [###############.") and err[1].endswith("500/1000 rows")
    assert err[3].startswith("writing  [....") and err[4].endswith("[" + "#" * 30 + "] 400/400 rows")
