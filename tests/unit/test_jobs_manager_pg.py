"""The manager's alerts, the Monday summary and the pool warning on PostgreSQL (the same queries and figures)."""

from __future__ import annotations

from datetime import timedelta

from handlers.router import Core
from tests.conftest import Clock
from tests.unit import test_jobs_manager as manager
from tests.unit import test_pool_warning as pool


def pg_core(pg_db, settings) -> Core:
    return Core(pg_db, settings, secret=b"test-secret", clock=Clock())


def test_team_alert_and_buttons_on_postgresql(pg_db, settings):
    core = pg_core(pg_db, settings)
    team = manager.make_team(core)
    manager.test_team_alert_at_the_managers_reminder_time_once_a_day(team, core, settings)
    core.clock.now = manager.NINE + timedelta(days=1)
    out = manager.ConsoleSession(core, user="mary").send(f"/nudge {team['late']}")
    assert manager.says(out, "team.nudged", name="alice")


def test_weekly_summary_on_postgresql(pg_db, settings):
    core = pg_core(pg_db, settings)
    team = manager.make_team(core)
    manager.test_weekly_summary_monday_after_nine_once_with_the_weeks_figures(team, core, settings)


def test_pool_warning_on_postgresql(pg_db, settings):
    core = pg_core(pg_db, settings)
    code = pool.make_quiet(core)
    pool.test_pool_warning_once_three_days_before_the_return(code, core, settings)
