"""The weekly complaint review for the service supervisors (seed 002 §3.3 复盘): the last complete week's
tickets by type, its complaints with their cause/fix, SLA breaches, lowest ratings, and complaints still open.
Posted once per ISO week (`review:<ISO year>-W<week>`)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from handlers import notify
from handlers.i18n import ENUMS, enum_label
from handlers.services.sla import job_ctx
from handlers.settings import DomainSettings
from handlers.views import Fields, Header, Reply, Text
from storage.models import Customer, SlaBreach, Ticket

MAX_LINES = 10


def review_week(now: datetime, tz) -> tuple[datetime, datetime]:  # noqa: ANN001
    """The last complete Monday-to-Monday week before `now`, in zone `tz`."""
    local = now.astimezone(tz)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday - timedelta(days=7), monday


def _lines(rows: list[str], none: str) -> str:
    if not rows:
        return none
    more = f"\n… +{len(rows) - MAX_LINES}" if len(rows) > MAX_LINES else ""
    return "\n".join(rows[:MAX_LINES]) + more


def build_review(session: Session, *, now: datetime, settings: DomainSettings) -> tuple[str, Reply]:
    v = job_ctx(session, now=now, settings=settings)
    start, end = review_week(now, v.tz)
    year, week, _ = start.isocalendar()
    created = list(session.scalars(select(Ticket).where(Ticket.created_at >= start, Ticket.created_at < end)
                                   .order_by(Ticket.id)))
    by_type = Counter(t.type for t in created)
    complaints = [t for t in created if t.type == "complaint"]
    names = {c.id: c.name for c in session.scalars(select(Customer).where(
        Customer.id.in_({t.customer_id for t in created} or {-1})))}

    def cause(t: Ticket) -> str:
        tail = v.t("review.cause", text=t.resolution) if t.resolution else enum_label(v.lang, "status", t.status)
        return f"{t.code} · {names.get(t.customer_id, '—')}: {t.description[:60]} — {tail}"

    breaches = session.execute(select(SlaBreach, Ticket.code).join(Ticket, Ticket.id == SlaBreach.ticket_id)
                               .where(SlaBreach.level == 1, SlaBreach.due_at >= start, SlaBreach.due_at < end)
                               .order_by(SlaBreach.due_at)).all()
    lowest = list(session.scalars(select(Ticket).where(
        Ticket.rated_at >= start, Ticket.rated_at < end, Ticket.rating <= 3).order_by(Ticket.rating, Ticket.id)))
    still_open = list(session.scalars(select(Ticket).where(
        Ticket.type == "complaint", Ticket.status != "closed", Ticket.created_at < end).order_by(Ticket.id)))
    none = v.t("review.none")
    period = f"{v.fmt_dt(start, date_only=True)} – {v.fmt_dt(end - timedelta(seconds=1), date_only=True)}"
    reply = Reply(views=(
        Header("📋 " + v.t("review.title", period=period)),
        Fields(tuple((enum_label(v.lang, "ticket_type", k), str(by_type.get(k, 0))) for k in ENUMS["ticket_type"])),
        Text(v.t("review.complaints") + "\n" + _lines([cause(t) for t in complaints], none)),
        Text(v.t("review.breaches") + "\n" + _lines(
            [f"{code} · {v.t('sla.kind.' + b.kind)} · {v.fmt_dt(b.due_at)}" for b, code in breaches], none)),
        Text(v.t("review.lowest") + "\n" + _lines(
            [f"{t.rating}★ {t.code}: {t.rating_comment or '—'}" for t in lowest], none)),
        Text(v.t("review.still_open") + "\n" + _lines(
            [f"{t.code} · {enum_label(v.lang, 'status', t.status)}" for t in still_open], none)),
    ), text=v.t("review.title", period=period))
    return f"review:{year}-W{week:02d}", reply


def post_complaint_review(session: Session, *, now: datetime, settings: DomainSettings,
                          channels: dict[str, str]) -> int:
    """Post the review of the last complete week to the service channel(s), once. Returns 1 if posted."""
    key, reply = build_review(session, now=now, settings=settings)
    return 1 if notify.to_service_channel(session, channels, key=key, reply=reply, now=now) else 0
