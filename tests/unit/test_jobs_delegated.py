"""The wrappers around the sales and service features' due-work functions.

The features live in other packages (handlers.services.*): these tests skip until they are installed, and
then check that the scheduled job calls them and that a second run sends nothing new.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from scheduler import runner
from scheduler.jobs import delegated
from storage.db import session_scope
from storage.models import Customer, Outbox, Ticket
from tests import factories as f

CHANNELS = {"console": "#service"}


def run(engine, settings, name, now) -> int:
    return runner.run_job(engine, name, now=now, settings=settings, channels=CHANNELS)


def outbox_count(engine) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(Outbox))


def test_delegated_missing_feature_is_skipped_quietly(engine, settings):
    assert delegated.service("no_such_feature_xyz", "run") is None


def test_delegated_every_job_runs_on_any_build(engine, settings):
    for name in ("sla_watch", "complaint_review", "pool_return", "rating_reminder"):
        assert run(engine, settings, name, f.NOW) >= 0


def _ticket(s, *, customer, **kw) -> Ticket:
    t = Ticket(code=f"FW2026{customer.id:03d}", customer_id=customer.id, description="broken",
               type="complaint", priority="high", created_at=f.NOW - timedelta(hours=2),
               updated_at=f.NOW - timedelta(hours=2), **kw)
    s.add(t)
    s.flush()
    return t


def test_sla_watch_escalates_a_passed_deadline_once(engine, settings):
    pytest.importorskip("handlers.services.sla")
    with session_scope(engine) as s:
        f.staff(s, name="sue", role="supervisor")
        c = f.customer(s, name="Angry Co")
        _ticket(s, customer=c, status="pending", assign_due_at=f.NOW - timedelta(minutes=5),
                contact_due_at=f.NOW + timedelta(hours=1), resolve_due_at=f.NOW + timedelta(hours=20))
    assert run(engine, settings, "sla_watch", f.NOW) >= 1
    n = outbox_count(engine)
    assert n >= 1
    assert run(engine, settings, "sla_watch", f.NOW + timedelta(seconds=30)) == 0
    assert outbox_count(engine) == n


def test_sla_watch_auto_closes_resolved_tickets(engine, settings):
    pytest.importorskip("handlers.services.tickets")
    with session_scope(engine) as s:
        c = f.customer(s, name="Quiet Co")
        t = _ticket(s, customer=c, status="resolved", resolved_at=f.NOW - settings.auto_close_after
                    - timedelta(minutes=1))
        tid = t.id
    run(engine, settings, "sla_watch", f.NOW)
    with session_scope(engine) as s:
        assert s.get(Ticket, tid).status == "closed"


def test_rating_reminder_asks_once(engine, settings):
    pytest.importorskip("handlers.services.ratings")
    with session_scope(engine) as s:
        c = f.customer(s, name="Rated Co")
        _ticket(s, customer=c, status="closed", closed_at=f.NOW - timedelta(hours=25),
                rating_requested_at=f.NOW - timedelta(hours=25))
    run(engine, settings, "rating_reminder", f.NOW)
    n = outbox_count(engine)
    run(engine, settings, "rating_reminder", f.NOW + timedelta(hours=2))
    assert outbox_count(engine) == n


def test_complaint_review_posts_once_a_week(engine, settings):
    pytest.importorskip("handlers.services.reviews")
    monday_9 = f.NOW - timedelta(hours=1)  # Monday 09:00 in Asia/Shanghai
    run(engine, settings, "complaint_review", monday_9)
    n = outbox_count(engine)
    run(engine, settings, "complaint_review", monday_9 + timedelta(minutes=5))
    assert outbox_count(engine) == n


def test_pool_return_returns_stale_customers_and_tells_the_owner(engine, settings):
    pytest.importorskip("handlers.services.pool")
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
