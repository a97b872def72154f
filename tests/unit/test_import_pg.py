"""Every import on PostgreSQL: the block of customer codes, the multi-row inserts with RETURNING, the follow-up
and purchase history, and all or nothing (the code counter rolls back with the rows)."""

from __future__ import annotations

import csv
import io

from sqlmodel import select

from handlers.context import Ctx
from handlers.services import import_engine
from handlers.services.import_kinds import IMPORTS
from storage import codes
from storage.db import session_scope
from storage.models import AuditLog, Contact, Customer, FollowUp, Purchase, Staff
from tests import factories as f
from tests.factories import NOW


def _csv(path, rows):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode("gbk"))
    return path


def _run(engine, settings, kind, path, **kw):
    with session_scope(engine) as s:
        boss = s.scalar(select(Staff).where(Staff.name == "boss"))
        ctx = Ctx(session=s, now=NOW, settings=settings, platform="console", chat_ref="@boss", user_ref="boss",
                  lang="zh", staff=boss)
        return IMPORTS[kind](ctx, path, apply=True, **kw)


def test_imports_on_postgresql(pg_db, settings, tmp_path, monkeypatch):
    monkeypatch.setattr(import_engine, "BATCH", 7)
    with session_scope(pg_db) as s:
        f.staff(s, name="boss", role="admin")
        f.staff(s, name="alice")
        f.customer(s, name="Acme", contact=None)  # ABC2026001
    rows = [[f"客户{i:02d}", "IT", "意向客户", f"联系人{i}", f"139{i:08d}", "a,b" if i % 3 else ""] for i in range(20)]
    bad = _csv(tmp_path / "bad.csv", [["客户名称", "所属行业", "客户类型", "联系人", "联系电话", "客户标签"], *rows,
                                      ["坏行", "太空", "意向客户", "", "", ""]])
    assert not _run(pg_db, settings, "customers", bad).applied
    good = _csv(tmp_path / "c.csv", [["客户名称", "所属行业", "客户类型", "联系人", "联系电话", "客户标签"], *rows])
    assert len(_run(pg_db, settings, "customers", good).created) == 20
    _csv(tmp_path / "k.csv", [["客户编号", "联系人", "电话"], ["ABC2026001", "张三", "13900000001"],
                              ["ABC2026002", "李四", ""]])
    _csv(tmp_path / "fu.csv", [["客户编号", "跟进日期", "跟进方式", "沟通内容", "跟进人", "下次跟进时间"],
                               ["ABC2026001", "2026-11-01 09:30", "电话", "再次沟通", "alice", "2026-12-01 10:00"],
                               ["ABC2026001", "2026-10-01 09:30", "电话", "首次沟通", "alice", "2026-10-15"]])
    _csv(tmp_path / "p.csv", [["客户编号", "购买日期", "产品", "金额"], ["ABC2026001", "2026-10-01", "ERP", "120万"]])
    for kind, path in (("contacts", "k.csv"), ("followups", "fu.csv"), ("purchases", "p.csv")):
        assert _run(pg_db, settings, kind, tmp_path / path).applied, kind
    with session_scope(pg_db) as s:
        codes = sorted(s.scalars(select(Customer.code)))
        assert codes == [f"ABC2026{i:03d}" for i in range(1, 22)]  # the failed import left no gap
        assert len(s.scalars(select(AuditLog).where(AuditLog.action == "create",
                                                    AuditLog.entity == "customer")).all()) == 20
        assert s.scalar(select(Contact.is_primary).where(Contact.name == "张三")) is True
        fus = s.scalars(select(FollowUp).order_by(FollowUp.date)).all()
        assert [(x.staff_id, x.done_at) for x in fus] == [(2, NOW), (2, None)]  # only the latest call's is owed
        acme = s.scalar(select(Customer).where(Customer.code == "ABC2026001"))
        assert (acme.last_followup_at, acme.next_followup_at) == (fus[1].date, fus[1].next_followup_at)
        assert s.scalar(select(Purchase.amount)) == 1_200_000
        assert s.scalar(select(Customer.grade).where(Customer.code == "ABC2026001")) == "A"
        assert len(s.scalars(select(AuditLog).where(AuditLog.action == "import")).all()) == 4


def test_code_blocks_interleave_with_single_codes_on_postgresql(pg_db):
    with session_scope(pg_db) as s:
        assert codes.customer_code(s, abbr="ABC", year=2026) == "ABC2026001"
        assert codes.customer_codes(s, abbr="ABC", year=2026, n=3) == ["ABC2026002", "ABC2026003", "ABC2026004"]
        assert codes.customer_code(s, abbr="ABC", year=2026) == "ABC2026005"
