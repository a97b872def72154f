"""Who made a call (`staff_id`, 跟进人) never changes; who owes the next one (`assignee_id`) moves with the
customer: handover, claim, pool return, a new owner. The audit log says what moved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.console.driver import ConsoleSession
from handlers import exporting
from handlers.router import Core
from handlers.services.pool import return_stale_to_pool
from scheduler import runner
from storage.db import session_scope
from storage.models import AuditLog, Customer, FollowUp, Outbox, Staff
from tests import factories as f
from tests.factories import NOW

CHANNELS = {"console": "#service"}


@pytest.fixture(params=["sqlite", "postgresql"])
def core(request, settings, clock):
    """The same scenarios on SQLite and on PostgreSQL (`TEST_DATABASE_URL`)."""
    engine = request.getfixturevalue("engine" if request.param == "sqlite" else "pg_db")
    return Core(engine, settings, secret=b"test-secret", clock=clock)


@pytest.fixture
def team(core):
    with session_scope(core.engine) as s:
        mgr = f.staff(s, name="mary", role="manager", team="east")
        f.staff(s, name="刘洋", team="east", manager=mgr)
        f.staff(s, name="李娜", team="east", manager=mgr)
        f.customer(s, name="Alpha Ltd", owner=s.scalar(select(Staff).where(Staff.name == "刘洋")))
    return core


def _id(s, name: str) -> int:
    return s.scalar(select(Staff.id).where(Staff.name == name))


def _rows(core) -> list[tuple[str, str, str | None]]:
    with session_scope(core.engine) as s:
        names = dict(s.execute(select(Staff.id, Staff.name)).all())
        return [(fu.content, names[fu.staff_id], names.get(fu.assignee_id))
                for fu in s.scalars(select(FollowUp).order_by(FollowUp.id))]


def test_log_makes_the_owner_owe_the_next_followup(team):
    ConsoleSession(team, user="mary").send("/log Alpha phone: manager called next: friday 3pm")
    assert _rows(team) == [("manager called", "mary", "刘洋")]  # made by mary, owed by the owner


def test_handover_keeps_the_author_and_moves_what_is_owed(team, clock, settings):
    liu = ConsoleSession(team, user="刘洋")
    liu.send("/log Alpha phone: first call, budget 600k next: in 3 days")
    ConsoleSession(team, user="mary").send("/handover 刘洋 李娜")
    assert _rows(team) == [("first call, budget 600k", "刘洋", "李娜")]

    li = ConsoleSession(team, user="李娜")
    history = li.send("/history Alpha")
    assert "刘洋" in history and "李娜" not in history  # /history credits who made the call
    with session_scope(team.engine) as s:
        exported = exporting.build_rows(s, "followups", tz="Asia/Shanghai")
        assert [(r["staff_name"], r["content"]) for r in exported] == [("刘洋", "first call, budget 600k")]
        moved = list(s.scalars(select(AuditLog).where(AuditLog.entity == "followup",
                                                      AuditLog.action == "handover")))
        assert [(a.field, a.old, a.new) for a in moved] == [("assignee", "刘洋", "李娜")]
    report = ConsoleSession(team, user="mary").send("/report followups")
    liu_line = next(line for line in report.splitlines() if "刘洋" in line)
    li_line = next(line for line in report.splitlines() if "李娜" in line)
    assert "1" in liu_line.split("刘洋", 1)[1] and " 0" in li_line  # the call counts for 刘洋
    assert "Alpha" in li.send("/followups") and "Alpha" not in liu.send("/followups")

    # the morning digest of the due day goes to the new owner, not to the author
    due = clock.advance(days=3, hours=1)
    runner.run_job(team.engine, "followup_digest", now=due, settings=settings, channels=CHANNELS)
    with session_scope(team.engine) as s:
        digests = {o.key.split(":")[1] for o in s.scalars(select(Outbox).where(Outbox.key.like("digest:%")))
                   if o.status != "skipped"}
        assert digests == {str(_id(s, "李娜"))}


def test_claim_and_pool_return_move_what_is_owed(team, settings):
    ConsoleSession(team, user="刘洋").send("/log Alpha phone: call next: in 3 days")
    later = NOW + timedelta(days=settings.pool_return_days + 1)
    with session_scope(team.engine) as s:
        assert return_stale_to_pool(s, now=later, settings=settings) == 1
    assert _rows(team) == [("call", "刘洋", None)]  # in the pool: nobody owes it
    ConsoleSession(team, user="李娜").send("/claim Alpha")
    assert _rows(team) == [("call", "刘洋", "李娜")]
    with session_scope(team.engine) as s:
        trail = [(a.action, a.old, a.new) for a in s.scalars(
            select(AuditLog).where(AuditLog.entity == "followup", AuditLog.field == "assignee")
            .order_by(AuditLog.id))]
        assert trail == [("pool_return", "刘洋", None), ("claim", None, "李娜")]


def test_new_owner_owes_the_open_followups(team):
    ConsoleSession(team, user="刘洋").send("/log Alpha phone: call next: in 3 days")
    ConsoleSession(team, user="mary").send("/customer edit Alpha owner=李娜")
    with session_scope(team.engine) as s:
        assert s.scalar(select(Customer.owner_id)) == _id(s, "李娜")
    assert _rows(team) == [("call", "刘洋", "李娜")]


def test_a_next_followup_set_again_in_the_pool_is_owed_again(team, settings):
    ConsoleSession(team, user="刘洋").send("/log Alpha phone: call next: in 3 days")
    later = NOW + timedelta(days=settings.pool_return_days + 1)
    with session_scope(team.engine) as s:
        return_stale_to_pool(s, now=later, settings=settings)
        fid = s.scalar(select(FollowUp.id))
    ConsoleSession(team, user="mary").send(f"/log next {fid} in 5 days")
    assert _rows(team) == [("call", "刘洋", "刘洋")]  # pool: nobody owned it; the author owes it again
