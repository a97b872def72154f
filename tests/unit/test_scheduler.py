"""The APScheduler setup, missed-run catch-up of calendar jobs, and the scheduler lease."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from scheduler import leader, registry, runner
from storage.db import session_scope
from storage.models import JobRun
from tests import factories as f

CHANNELS = {"console": "#service"}


def test_scheduler_every_scheduled_job_has_id_coalesce_and_grace(engine, settings, clock):
    sched = runner.build_scheduler(engine, settings, CHANNELS, clock=clock)
    jobs = {j.id: j for j in sched.get_jobs()}
    scheduled = {n for n, j in registry.JOBS.items() if j.trigger}
    assert scheduled <= set(jobs)
    assert "cadence" not in jobs  # folded into the digest: never a message of its own
    for name in scheduled:
        j = jobs[name]
        assert j.coalesce is True and j.max_instances == 1
        assert j.misfire_grace_time == registry.JOBS[name].misfire_grace
    assert isinstance(jobs["followup_digest"].trigger, IntervalTrigger)
    assert jobs["followup_digest"].trigger.interval == timedelta(minutes=1)
    assert jobs["sla_watch"].trigger.interval <= timedelta(seconds=30)
    review = jobs["complaint_review"].trigger
    assert isinstance(review, CronTrigger) and str(review.timezone) == settings.default_tz
    assert str(review) == "cron[day_of_week='mon', hour='9', minute='0']"


def test_scheduler_previous_fire_time():
    trig = CronTrigger(day_of_week="mon", hour=9, minute=0, timezone="Asia/Shanghai")
    prev = runner.previous_fire(trig, f.NOW)  # Monday 10:00 in Shanghai
    assert prev == datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    prev = runner.previous_fire(trig, datetime(2026, 11, 23, 0, 59, tzinfo=UTC))
    assert prev == datetime(2026, 11, 16, 1, 0, tzinfo=UTC)


def test_scheduler_missed_calendar_jobs_are_caught_up_once(engine, settings, clock):
    # Monday 10:00 in Shanghai: the bot was down at 09:00 (review) and at 02:00 (pool return)
    assert set(runner.missed(engine, settings, now=f.NOW)) == {"complaint_review", "pool_return"}
    sched = runner.build_scheduler(engine, settings, CHANNELS, clock=clock)
    jobs = {j.id: j for j in sched.get_jobs()}
    # the missed calendar jobs fire at once (then keep their regular times); no separate one-shot jobs
    for name in ("complaint_review", "pool_return"):
        regular = jobs[name].trigger.get_next_fire_time(None, datetime.now(UTC))
        assert jobs[name].next_run_time < regular
    assert len(jobs) == len([j for j in registry.JOBS.values() if j.trigger])
    runner.run_job(engine, "complaint_review", now=f.NOW, settings=settings, channels=CHANNELS)
    assert runner.missed(engine, settings, now=f.NOW + timedelta(minutes=1)) == ["pool_return"]
    # a week-old miss is not caught up any more: the next regular run will do
    assert runner.missed(engine, settings, now=datetime(2026, 11, 29, 12, tzinfo=UTC)) == ["pool_return"]


def test_scheduler_failed_run_is_recorded_and_caught_up(engine, settings):
    with session_scope(engine) as s:
        s.add(JobRun(name="pool_return", started_at=f.NOW, finished_at=f.NOW, error="OperationalError: x"))
    assert "pool_return" in runner.missed(engine, settings, now=f.NOW)


def test_scheduler_run_job_records_the_run(engine, settings):
    woke = []
    runner.run_job(engine, "followup_digest", now=f.NOW, settings=settings, channels=CHANNELS,
                   on_written=lambda: woke.append(1))
    last = runner.last_runs(engine)["followup_digest"]
    assert last.items == 0 and last.error is None and last.started_at == f.NOW
    assert woke == []  # nothing written: the sender is not woken


@pytest.fixture
def file_engine(tmp_path):
    """Jobs run in the scheduler's worker threads at once: a file database (one connection per thread), not the
    in-memory one whose single shared connection must not be used by several threads together."""
    from storage.db import create_all, make_engine

    e = make_engine(f"sqlite:///{tmp_path / 'sched.db'}")
    create_all(e)
    yield e
    e.dispose()


def test_scheduler_scheduled_job_fires_and_wakes_the_sender(file_engine, settings, clock):
    engine = file_engine
    with session_scope(engine) as s:
        rep = f.staff(s, name="kim")
        c = f.customer(s, name="Due Co", owner=rep)
        from storage.models import FollowUp

        s.add(FollowUp(customer_id=c.id, date=f.NOW, method="phone", content="x", staff_id=rep.id,
                       next_followup_at=f.NOW - timedelta(hours=1), created_at=f.NOW))
    import threading

    woke = threading.Event()
    sched = runner.build_scheduler(engine, settings, CHANNELS, clock=clock, on_written=woke.set, first_run_in=0)
    sched.start()
    try:
        assert woke.wait(20)
    finally:
        sched.shutdown(wait=True)


# ---------------------------------------------------------------- the lease


def test_lease_one_holder_at_a_time_and_takeover_after_expiry(engine, clock):
    a = leader.Lease(engine, holder="a", clock=clock, ttl=timedelta(seconds=30))
    b = leader.Lease(engine, holder="b", clock=clock, ttl=timedelta(seconds=30))
    assert a.acquire() is True
    assert b.acquire() is False
    clock.advance(seconds=20)
    assert a.acquire() is True  # renewed until +50 s
    clock.advance(seconds=29)
    assert b.acquire() is False
    clock.advance(seconds=2)  # a died: its lease ran out
    assert b.acquire() is True
    assert a.acquire() is False
    b.release()
    assert a.acquire() is True


def test_leadership_elects_and_deposes(engine, clock):
    events = []
    mk = lambda h: leader.Leadership(leader.Lease(engine, holder=h, clock=clock, ttl=timedelta(seconds=30)),  # noqa: E731
                                     on_elected=lambda: events.append(("up", h)),
                                     on_deposed=lambda: events.append(("down", h)), every=10)
    a, b = mk("a"), mk("b")
    assert a.step() is True and b.step() is False
    clock.advance(seconds=10)
    assert a.step() is True and b.step() is False
    clock.advance(seconds=45)  # a froze and missed its renewals; b takes over, a steps down when it wakes
    assert b.step() is True
    assert a.step() is False
    assert events == [("up", "a"), ("up", "b"), ("down", "a")]
    b.stop()
    assert events[-1] == ("down", "b")
    assert a.step() is True  # b released the lease on a clean stop


def test_leadership_scheduler_start_failure_is_retried(engine, clock):
    calls = []

    def elected():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")

    lead = leader.Leadership(leader.Lease(engine, holder="a", clock=clock), on_elected=elected,
                             on_deposed=lambda: None)
    with pytest.raises(RuntimeError):
        lead.step()
    assert lead.is_leader is False
    assert lead.step() is True and len(calls) == 2
