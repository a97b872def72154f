"""The demo data: every role, kind, stage and status present; the denormalised fields consistent."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlmodel import Session

from bot.demo_data import generate
from bot.demo_words import DEFAULT_USER
from handlers.context import Inbound
from handlers.i18n import ENUMS
from handlers.i18n import t as tr
from handlers.router import Core
from handlers.services.sla import KINDS, due_of, met_of
from handlers.settings import DomainSettings
from handlers.views import Fields, ListPage
from storage.db import create_all, make_engine
from storage.models import (
    ApprovalRequest,
    Contact,
    Customer,
    FollowUp,
    Opportunity,
    OpportunityStage,
    Outbox,
    Purchase,
    SlaBreach,
    Staff,
    Ticket,
    TicketEvent,
)
from tests.factories import NOW
from tests.says import says

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = DomainSettings(_env_file=None)


@pytest.fixture(scope="module")
def demo():
    e = make_engine("sqlite://")
    create_all(e)
    with Session(e, expire_on_commit=False) as s:
        counts = generate(s, now=NOW, settings=SETTINGS)
        s.commit()
        yield s, counts
    e.dispose()


def _all(s: Session, model) -> list:  # noqa: ANN001
    return list(s.scalars(select(model)))


def test_demo_counts_and_roles(demo):
    s, counts = demo
    assert counts["customers"] == 200 and counts["staff"] == 13
    assert counts["followups"] > 400 and counts["opportunities"] > 100 and counts["tickets"] >= 50
    staff = _all(s, Staff)
    assert {x.role for x in staff} == set(ENUMS["role"])
    assert any(re.search(r"[\u4e00-\u9fff]", x.name) for x in staff)
    assert any(x.name.isascii() for x in staff)
    me = next(x for x in staff if x.name == DEFAULT_USER)
    assert me.role == "rep" and me.manager_id is not None
    reps = [x for x in staff if x.role == "rep"]
    assert all(x.manager_id and x.team for x in reps)


def test_demo_customers_cover_every_kind(demo):
    s, _ = demo
    cs = _all(s, Customer)
    assert {c.type for c in cs} == set(ENUMS["customer_type"])
    assert {c.grade for c in cs} == {"A", "B", "C"}
    assert len({c.industry for c in cs}) >= 6
    assert len({c.code for c in cs}) == len({c.name for c in cs}) == 200
    pool = [c for c in cs if c.owner_id is None]
    assert 5 <= len(pool) <= 20 and all(c.pooled_at and c.pooled_at <= NOW for c in pool)
    contacts = _all(s, Contact)
    assert all(re.fullmatch(r"1[3-9]\d{9}", k.phone) for k in contacts)
    primaries = defaultdict(int)
    for k in contacts:
        primaries[k.customer_id] += k.is_primary
    assert all(primaries[c.id] == 1 for c in cs)


def test_demo_followup_fields_are_consistent(demo):
    s, _ = demo
    by_customer = defaultdict(list)
    for f in _all(s, FollowUp):
        by_customer[f.customer_id].append(f)
    for c in _all(s, Customer):
        fus = sorted(by_customer[c.id], key=lambda f: f.date)
        if not fus:
            assert c.last_followup_at is None and c.next_followup_at is None
            assert c.created_at > NOW - timedelta(hours=24)  # a fresh lead
            continue
        assert all(c.created_at <= f.date <= NOW for f in fus)
        assert c.last_followup_at == fus[-1].date
        pending = [f for f in fus if f.done_at is None]
        assert pending == [fus[-1]]
        assert c.next_followup_at == fus[-1].next_followup_at
        assert all(f.staff_id for f in fus)
        assert {f.method for f in fus} <= set(ENUMS["method"])


def test_demo_rep_has_due_overdue_and_upcoming(demo):
    s, _ = demo
    me = s.scalar(select(Staff).where(Staff.name == DEFAULT_USER))
    today = NOW.astimezone(ZoneInfo("Asia/Shanghai")).date()
    days = [c.next_followup_at.astimezone(ZoneInfo("Asia/Shanghai")).date()
            for c in s.scalars(select(Customer).where(Customer.owner_id == me.id)) if c.next_followup_at]
    assert any(d < today for d in days) and any(d == today for d in days) and any(d > today for d in days)


def test_demo_grades_follow_purchases(demo):
    s, _ = demo
    totals: dict[int, Decimal] = defaultdict(Decimal)
    for p in _all(s, Purchase):
        assert p.date <= NOW
        if p.date > NOW - timedelta(days=365):
            totals[p.customer_id] += p.amount
    graded = [c for c in _all(s, Customer) if not c.grade_locked]
    assert len(graded) > 100 and {c.grade for c in graded} == {"A", "B", "C"}  # the check below checks something
    for c in graded:
        assert c.grade == SETTINGS.grade_for(float(totals[c.id])), c.code


def test_demo_opportunities_and_stage_history(demo):
    s, _ = demo
    opps = _all(s, Opportunity)
    assert {o.stage for o in opps} == set(ENUMS["stage"])
    hist = defaultdict(list)
    for h in _all(s, OpportunityStage):
        hist[h.opportunity_id].append(h)
    for o in opps:
        assert re.fullmatch(r"[A-Z]+\d{7}OP\d{2}", o.code)
        h = sorted(hist[o.id], key=lambda x: (x.at, x.id))
        assert h[0].from_stage is None and h[-1].to_stage == o.stage
        assert all(a.to_stage == b.from_stage for a, b in zip(h, h[1:], strict=False))
        if o.stage == "won":
            assert o.actual_amount and o.contract_no
        if o.stage == "lost":
            assert o.lost_reason


def test_demo_tickets(demo):
    s, _ = demo
    ts = _all(s, Ticket)
    assert {t.status for t in ts} == set(ENUMS["status"])
    assert {t.type for t in ts} == set(ENUMS["ticket_type"])
    assert {t.priority for t in ts} == set(ENUMS["priority"])
    events = defaultdict(list)
    for e in _all(s, TicketEvent):
        events[e.ticket_id].append(e)
    for t in ts:
        ev = sorted(events[t.id], key=lambda e: e.at)
        assert ev[0].kind == "created" and all(e.at <= NOW for e in ev)
        assert (t.assignee_id is None) == (t.status == "pending")
        assert (t.closed_at is not None) == (t.status == "closed")
        assert t.assign_due_at
        # the contact and resolve clocks start at assignment, as in handlers/services/sla.py
        assert (t.resolve_due_at is None) == (t.contact_due_at is None) == (t.assignee_id is None)
        if t.rating is not None:
            assert 1 <= t.rating <= 5 and t.status == "closed" and t.rated_at
    assert any(t.rating for t in ts)


def _views(engine, now, text: str) -> tuple:  # noqa: ANN001
    core = Core(engine, SETTINGS, secret=b"demo-test", clock=lambda: now)
    return core.handle(Inbound(platform="console", user_ref="Mark Wu", chat_ref="@Mark Wu", text=text)).views


def _breaching(engine, now) -> set[str]:  # noqa: ANN001
    """The codes `/tickets breaching` lists, every page."""
    codes: set[str] = set()
    page, pages = 1, 1
    while page <= pages:
        lp = next(v for v in _views(engine, now, f"/tickets breaching p{page}") if isinstance(v, ListPage))
        codes |= {it.text.split(" · ")[0] for it in lp.items}
        page, pages = page + 1, lp.pages
    return codes


def _sla_report(engine, now) -> tuple[dict[str, str], set[str]]:  # noqa: ANN001
    """`/report sla`: its counts, and the codes it lists as still not met."""
    views = _views(engine, now, "/report sla")
    counts = dict(next(v for v in views if isinstance(v, Fields)).items)
    lp = next(v for v in views if isinstance(v, ListPage))
    assert lp.total == len(lp.items)  # nothing cut
    return counts, {it.text.split(" · ")[0] for it in lp.items if tr("en", "sla.still_open") in it.detail}


def test_demo_sla_report_and_breaching_queue_agree(demo):
    s, _ = demo
    breaching = _breaching(s.get_bind(), NOW)
    counts, still_open = _sla_report(s.get_bind(), NOW)
    assert len(breaching) >= 5
    assert counts[tr("en", "sla.open_now")] == str(len(breaching)) and still_open == breaching
    assert int(counts[tr("en", "sla.kind.assign")]) > 0


def test_demo_sla_history_is_what_the_watch_records(demo):
    """Every deadline that passed before it was met has its level-1 breach (met late or still open), and no
    other; the watch's alerts of the past count as delivered."""
    s, _ = demo
    rows = _all(s, SlaBreach)

    def late(t: Ticket, k: str) -> bool:
        due, met = due_of(t, k), met_of(t, k)
        return due is not None and due <= NOW and (met is None or met > due)

    passed = {(t.id, k) for t in _all(s, Ticket) for k in KINDS if late(t, k)}
    assert {(b.ticket_id, b.kind) for b in rows if b.level == 1} == passed
    assert any(b.level == 2 for b in rows) and any(b.met_at for b in rows)
    for b in rows:
        t = s.get(Ticket, b.ticket_id)
        assert b.met_at == met_of(t, b.kind)
    assert s.scalar(select(Outbox).where(Outbox.key.startswith("sla:"), Outbox.status != "sent")) is None


def test_demo_has_a_pending_approval_for_the_reps_manager(demo):
    s, _ = demo
    req = s.scalars(select(ApprovalRequest)).one()
    me = s.scalar(select(Staff).where(Staff.name == DEFAULT_USER))
    assert req.status == "pending" and req.requested_by_id == me.id and req.approver_id == me.manager_id
    row = s.scalar(select(Outbox).where(Outbox.key == f"appr:{req.id}"))
    assert row.status == "pending" and row.staff_id == me.manager_id  # he is sent it when he opens the console


def test_demo_built_early_in_a_month_still_reports_last_months_open_breaches():
    now = NOW.replace(month=12, day=1, hour=1)  # 09:00 on the 1st in Asia/Shanghai
    e = make_engine("sqlite://")
    create_all(e)
    with Session(e) as s:
        generate(s, now=now, settings=SETTINGS)
        s.commit()
    breaching = _breaching(e, now)
    counts, still_open = _sla_report(e, now)
    e.dispose()
    assert breaching and still_open == breaching  # due last month, still breaching: in this month's report
    assert counts[tr("en", "sla.open_now")] == str(len(breaching))


def _cli(*args: str, cwd: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "CRM_CONSOLE_HISTORY": str(cwd / "hist"), **env}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, env=full_env, timeout=120)


def test_demo_cli_no_console_ignores_database_url(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "demo.db").write_text("an old demo file that is not a database")
    r = _cli("demo", "--no-console", cwd=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/other.db")
    assert r.returncode == 0, r.stderr
    assert "200 customers" in r.stdout and "Traceback" not in r.stderr
    assert not (tmp_path / "other.db").exists()
    with sqlite3.connect(tmp_path / "data" / "demo.db") as db:
        assert db.execute("SELECT count(*) FROM customer").fetchone()[0] == 200
        assert db.execute("SELECT version_num FROM alembic_version").fetchone()[0]


def test_demo_cli_manager_is_shown_the_approval_and_presses_it_after_a_command(tmp_path):
    r = _cli("demo", "--db", "d/x.db", "--as", "张伟", cwd=tmp_path, stdin="/approvals\n/lang\nn1\n")
    assert r.returncode == 0, r.stderr
    start, listing, lang, pressed = r.stdout.split("» ")
    assert "📨" in start and f"[n1] {tr('zh', 'appr.approve')}" in start  # sent to him while he was away
    assert tr("zh", "appr.list.title") in listing and f"[1] {tr('zh', 'appr.approve')}" in listing
    assert "[1] English" in lang
    assert "集团有限公司" in pressed and "⚠" not in pressed  # n1: the notification's Approve, after two commands
    with sqlite3.connect(tmp_path / "d" / "x.db") as db:
        assert db.execute("SELECT status FROM approval_request").fetchall() == [("approved",)]


def test_demo_cli_opens_the_console_as_a_rep(tmp_path):
    r = _cli("demo", "--db", "d/x.db", cwd=tmp_path, stdin="/help\n")
    assert r.returncode == 0, r.stderr
    assert DEFAULT_USER in r.stdout and "/help" in r.stdout
    assert tr("zh", "help.title") in r.stdout  # 李娜 reads Chinese
    assert tr("zh", "console.demo_other") in r.stdout and not says(r.stdout, "console.demo_hint")  # so does the intro
    assert (tmp_path / "d" / "x.db").exists()
