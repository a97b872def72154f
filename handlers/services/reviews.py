"""The weekly complaint review for the service supervisors (seed 002 §3.3 复盘): the last complete week's
tickets by type, its complaints with their cause/fix, SLA breaches, lowest ratings, and complaints still open;
with a chart of complaints and breaches over the last 8 weeks.
Posted once per ISO week (`review:<ISO year>-W<week>`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from handlers import notify
from handlers.cards.service import Review, review_post
from handlers.cards.tickets import for_channel, job_ctx
from handlers.settings import DomainSettings
from handlers.spans import TREND_WEEKS
from storage.repos import service as service_repo
from storage.repos import tickets as repo


def review_week(now: datetime, tz) -> tuple[datetime, datetime]:  # noqa: ANN001
    """The last complete Monday-to-Monday week before `now`, in zone `tz`."""
    local = now.astimezone(tz)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday - timedelta(days=7), monday


def gather_review(session: Session, *, start: datetime, end: datetime) -> Review:
    """The week's tickets, its level-1 breaches, its ratings of 3 or less, and the complaints still open."""
    created = repo.list_created_between(session, start=start, end=end)
    monday = start.date()
    weeks = [monday - timedelta(weeks=TREND_WEEKS - 1 - i) for i in range(TREND_WEEKS)]
    since = start - timedelta(weeks=TREND_WEEKS - 1)
    return Review(start=start, end=end, created=created, weeks=weeks,
                  trend_created=repo.list_created_between(session, start=since, end=end),
                  trend_breaches=repo.list_first_breaches(session, start=since, end=end),
                  customer_names=service_repo.customer_names(session, {t.customer_id for t in created}),
                  breaches=repo.list_first_breaches(session, start=start, end=end),
                  lowest=repo.list_low_rated_between(session, start=start, end=end, at_most=3),
                  still_open=repo.list_open_complaints(session, created_before=end))


def post_complaint_review(session: Session, *, now: datetime, settings: DomainSettings,
                          channels: dict[str, str]) -> int:
    """Post the review of the last complete week to the service channel(s), once. Returns 1 if posted."""
    start, end = review_week(now, job_ctx(session, now=now, settings=settings).tz)
    year, week, _ = start.isocalendar()
    review = gather_review(session, start=start, end=end)
    reply = for_channel(session, now=now, settings=settings, build=lambda v: review_post(v, review))
    return 1 if notify.to_service_channel(session, channels, key=f"review:{year}-W{week:02d}", reply=reply,
                                          now=now) else 0
