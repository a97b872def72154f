"""The wrappers around the sales and service features' due-work functions (handlers.services.*): each
scheduled job calls them, a second run sends nothing new, and a failing part is recorded, not dropped."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from handlers.services import sla
from scheduler import runner
from storage.db import session_scope
from storage.models import ChatBinding, Customer, JobRun, Outbox, Ticket
from tests import factories as f

CHANNELS = {"console": "#service"}


def run(engine, settings, name, now) -> int:
    return runner.run_job(engine, name, now=now, settings=settings, channels=CHANNELS)


def outbox_count(engine) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(Outbox))


def last_run(engine, name) -> JobRun:
    with session_scope(engine) as s:
        return s.scalar(select(JobRun).where(JobRun.name == name).order_by(JobRun.id.desc()).limit(1))


def test_delegated_every_job_runs_with_nothing_due(engine, settings):
    for name in ("sla_watch", "complaint_review", "pool_return", "rating_reminder"):
        assert run(engine, settings, name, f.NOW) == (1 if name == "complaint_review" else 0), name
        r = last_run(engine, name)
        assert r is not None and r.error is None, name
    assert outbox_count(engine) == 1  # the (empty) weekly review, nothing else


def test_sla_watch_a_failing_part_is_recorded_and_the_other_part_still_runs(engine, settings, monkeypatch,
                                                                             caplog):
    def broken(session, **kw):
        raise RuntimeError("escalation is broken")

    monkeypatch.setattr(sla, "escalate_due", broken)
    with session_scope(engine) as s:
        c = f.customer(s, name="Quiet Co")
        tid = _ticket(s, customer=c, status="resolved", resolved_at=f.NOW - settings.auto_close_after
                      - timedelta(minutes=1)).id
    assert run(engine, settings, "sla_watch", f.NOW) == 1  # the auto-close still ran and its work stands
    with session_scope(engine) as s:
        assert s.get(Ticket, tid).status == "closed"
    assert "RuntimeError: escalation is broken" in last_run(engine, "sla_watch").error
    assert "escalation is broken" in caplog.text


def _ticket(s, *, customer, **kw) -> Ticket:
    t = Ticket(code=f"FW2026{customer.id:03d}", customer_id=customer.id, description="broken",
               type="complaint", priority="high", created_at=f.NOW - timedelta(hours=2),
               updated_at=f.NOW - timedelta(hours=2), **kw)
    s.add(t)
    s.flush()
    return t


def test_sla_watch_escalates_a_passed_deadline_once(engine, settings):
    with session_scope(engine) as s:
        f.staff(s, name="sue", role="supervisor")
        c = f.customer(s, name="Angry Co")
        _ticket(s, customer=c, status="pending", assign_due_at=f.NOW - timedelta(minutes=5),
                contact_due_at=f.NOW + timedelta(hours=1), resolve_due_at=f.NOW + timedelta(hours=20))
    assert run(engine, settings, "sla_watch", f.NOW) == 1  # the assign deadline, to the supervisor
    n = outbox_count(engine)
    assert n >= 1
    assert run(engine, settings, "sla_watch", f.NOW + timedelta(seconds=30)) == 0
    assert outbox_count(engine) == n


def test_sla_watch_auto_closes_resolved_tickets(engine, settings):
    with session_scope(engine) as s:
        c = f.customer(s, name="Quiet Co")
        t = _ticket(s, customer=c, status="resolved", resolved_at=f.NOW - settings.auto_close_after
                    - timedelta(minutes=1))
        tid = t.id
    with session_scope(engine) as s:
        assert s.get(Ticket, tid).status == "resolved"
    assert run(engine, settings, "sla_watch", f.NOW) == 1
    with session_scope(engine) as s:
        assert s.get(Ticket, tid).status == "closed"


def test_rating_reminder_asks_once(engine, settings):
    with session_scope(engine) as s:
        c = f.customer(s, name="Rated Co")
        s.add(ChatBinding(platform="console", chat_ref="@rated", customer_id=c.id, contact_id=c.id, lang="en",
                          created_at=f.NOW - timedelta(days=3)))
        _ticket(s, customer=c, status="closed", closed_at=f.NOW - timedelta(hours=25),
                rating_requested_at=f.NOW - timedelta(hours=25))
    assert run(engine, settings, "rating_reminder", f.NOW) == 1
    n = outbox_count(engine)
    with session_scope(engine) as s:
        [row] = s.scalars(select(Outbox))
        assert row.chat_ref == "@rated"
    assert run(engine, settings, "rating_reminder", f.NOW + timedelta(hours=2)) == 0
    assert outbox_count(engine) == n


def test_complaint_review_posts_once_a_week(engine, settings):
    monday_9 = f.NOW - timedelta(hours=1)  # Monday 09:00 in Asia/Shanghai
    assert run(engine, settings, "complaint_review", monday_9) == 1
    n = outbox_count(engine)
    assert n == 1
    assert run(engine, settings, "complaint_review", monday_9 + timedelta(minutes=5)) == 0
    assert outbox_count(engine) == n


def test_pool_return_returns_stale_customers_and_tells_the_owner(engine, settings):
    with session_scope(engine) as s:
        rep = f.staff(s, name="pat")
        c = f.customer(s, name="Stale Co", owner=rep, now=f.NOW - timedelta(days=90))
        c.last_followup_at = f.NOW - timedelta(days=settings.pool_return_days + 1)
        cid = c.id
    assert run(engine, settings, "pool_return", f.NOW) == 1
    with session_scope(engine) as s:
        assert s.get(Customer, cid).owner_id is None
    n = outbox_count(engine)
    assert n >= 1
    assert run(engine, settings, "pool_return", f.NOW + timedelta(days=1)) == 0
    assert outbox_count(engine) == n
