"""`team_alert` and `weekly_summary`: what a sales manager hears about their team (handbook 002 §3.1, §5.1).

`team_alert` runs every few minutes. A manager is due when their local reminder time (`Staff.reminder_time`,
default `CRM_REMINDER_TIME`) has passed today in their zone and no outbox row `team_alert:<id>:<local date>`
exists: their team's customers behind cadence, by rep, and first contacts missed, with Remind and Reassign
buttons. Nothing to say is recorded as a `skipped` row under the same key, so a day is decided once.

`weekly_summary`: on Monday, once the manager's local `CRM_WEEKLY_SUMMARY_TIME` (09:00) has passed, the
previous local week (Monday to Sunday): outbox key `weekly:<id>:<that Monday>`. A bot that was down on
Monday morning sends it when it comes back, that Monday only. It carries the funnel chart of the team's
opportunities created this year up to the week's end (`/report funnel`'s default period, as the manager sees it),
when there are any.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlmodel import Session

from handlers import notify
from handlers.cards import reports as report_cards
from handlers.cards import team as cards
from handlers.cards.tickets import job_ctx
from handlers.services import sales_report, team_watch
from handlers.settings import DomainSettings
from handlers.spans import Scope
from handlers.views import FileRef, Reply, to_json
from scheduler.jobs import each, log, zone
from storage import outbox
from storage.models import Staff
from storage.repos import reminders as reminder_repo
from storage.repos import team as team_repo


def _passed(local_now: datetime, hhmm: str) -> bool:
    hh, mm = hhmm.split(":")
    return local_now.time() >= time(int(hh), int(mm))


def _skip(session: Session, staff: Staff, key: str, now: datetime) -> None:
    """Decide `key` without a message: nothing to say today, and nothing late if something comes up."""
    platform, chat_ref, scope = notify.staff_address(staff)
    outbox.add(session, key=key, platform=platform, chat_ref=chat_ref, scope=scope, payload=to_json(Reply()),
               now=now, staff_id=staff.id, status="skipped")


def _due(session: Session, settings: DomainSettings, now: datetime, *, key, when,  # noqa: ANN001
         ) -> list[tuple[Staff, datetime, str]]:
    """(manager, local now, key) of the active managers for whom `when(manager, local_now)` holds and whose
    `key(manager, local_now)` has no outbox row yet."""
    out = []
    for m in team_repo.managers(session):
        local_now = now.astimezone(zone(m.tz, settings.default_tz))
        try:
            if when(m, local_now):
                out.append((m, local_now, key(m, local_now)))
        except ValueError:  # a malformed reminder time must not stop the other managers
            log.warning("staff %s has a bad reminder time %r", m.id, m.reminder_time)
    done = reminder_repo.outbox_keys(session, [k for _, _, k in out])
    return [item for item in out if item[2] not in done]


# ---------------------------------------------------------------- the morning alert


def _alert_one(session: Session, m: Staff, local_now: datetime, key: str, settings: DomainSettings,
               now: datetime) -> bool:
    alert = team_watch.team_alert(session, m, settings, now=now)
    if not len(alert):
        _skip(session, m, key, now)
        return False
    return notify.to_staff(session, m, key=key, now=now,
                           reply=cards.team_alert(m, alert, settings, now=now, local_now=local_now))


def run_team_alert(session: Session, *, now: datetime, settings: DomainSettings, channels: dict[str, str]) -> int:
    """Each manager's morning alert about their team, once per local day, when there is something to say."""
    due = _due(session, settings, now, key=lambda m, ln: f"team_alert:{m.id}:{ln.date()}",
               when=lambda m, ln: _passed(ln, m.reminder_time or settings.reminder_time))
    return each(session, due, lambda it: _alert_one(session, it[0], it[1], it[2], settings, now),
                job="team_alert")


# ---------------------------------------------------------------- the Monday summary


def _week_of(local_now: datetime) -> tuple[datetime, datetime]:
    """[last Monday 00:00, this Monday 00:00) in the manager's zone."""
    this_monday = datetime.combine(local_now.date() - timedelta(days=local_now.weekday()), time(0),
                                   local_now.tzinfo)
    return this_monday - timedelta(days=7), this_monday


def _funnel_file(session: Session, m: Staff, end: datetime, settings: DomainSettings, now: datetime
                 ) -> FileRef | None:
    """The team's funnel this year up to `end` (the week's end), as the manager sees it; None without any
    opportunity."""
    viewer = job_ctx(session, now=now, settings=settings, staff=m)
    year = (end - timedelta(days=1)).replace(month=1, day=1)
    f = sales_report.funnel(viewer, start=year, end=end, scope=Scope())
    return report_cards.funnel_file(viewer, f, start=year, end=end) if f.total else None


def _summary_one(session: Session, m: Staff, local_now: datetime, key: str, settings: DomainSettings,
                 now: datetime) -> bool:
    start, end = _week_of(local_now)
    s = team_watch.weekly_summary(session, m, start=start, end=end, now=now)
    if not len(s):
        _skip(session, m, key, now)
        return False
    reply = cards.weekly_summary(m, s, first=start.date(), last=(end - timedelta(days=1)).date(),
                                 file=_funnel_file(session, m, end, settings, now))
    return notify.to_staff(session, m, key=key, reply=reply, now=now)


def run_weekly_summary(session: Session, *, now: datetime, settings: DomainSettings,
                       channels: dict[str, str]) -> int:
    """Each manager's team summary of last week, on Monday after their local summary time, once."""
    due = _due(session, settings, now, key=lambda m, ln: f"weekly:{m.id}:{ln.date()}",
               when=lambda m, ln: ln.weekday() == 0 and _passed(ln, settings.weekly_summary_time))
    return each(session, due, lambda it: _summary_one(session, it[0], it[1], it[2], settings, now), job="weekly_summary")
