"""Ratings after close, auto-close, rating reminders and the closed tickets behind `/report csat`.

Only the ticket's own customer chat rates, once: the router checks the button token is bound to that chat,
and `rate` checks again that the chat's customer is the ticket's and that no rating exists (a conditional
UPDATE, so a replayed click changes nothing). A rating of 1 or 2 alerts the service channel at once (service
recovery should not wait); when the customer may still comment, the post says so (until when) and is edited in
place when the comment comes, or when they skip it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session

from handlers import inputs, notify
from handlers.cards.service import low_rating_alert
from handlers.cards.tickets import for_channel, job_ctx, rating_reminder
from handlers.context import Ctx
from handlers.errors import Conflict, InvalidInput, NotFound
from handlers.services import service_history, tickets
from handlers.settings import DomainSettings
from storage.models import Ticket
from storage.repos import tickets as repo

REMIND_AFTER = timedelta(hours=24)
COMMENT_WINDOW = timedelta(hours=1)  # the comment is the customer's next message within this after the rating


def parse_stars(text: str) -> int:
    n = inputs.parse_id((text or "").strip().rstrip("★*☆ "), lo=1, hi=5)
    if n is None:
        raise InvalidInput("rate.bad_value", value=text)
    return n


def _store(ctx: Ctx, t: Ticket, n: int, comment: str | None, *, awaiting: bool = False) -> None:
    """Save the rating (once). `awaiting`: the customer may still add a comment (COMMENT_WINDOW)."""
    res = ctx.session.execute(
        update(Ticket).where(Ticket.id == t.id, Ticket.rating.is_(None), Ticket.status == "closed")
        .values(rating=n, rating_comment=comment or None, rated_at=ctx.now, updated_at=ctx.now)
        .execution_options(synchronize_session=False))
    ctx.session.refresh(t)
    if res.rowcount != 1:
        raise Conflict("rate.already", code=t.code)
    tickets.add_event(ctx, t, "rated", text=f"{n}" + (f" {comment}" if comment else ""))
    service_history.record_complaint_event(ctx, t, "rated")
    if n <= 2:
        _alert(ctx, t, key=f"recovery:{t.code}", awaiting=awaiting and not comment)


def _alert(ctx: Ctx, t: Ticket, *, key: str, edit: bool = False, awaiting: bool = False) -> None:
    """The service-recovery post for a low rating; with `edit`, the same post updated (the comment came in,
    or the customer skipped it). `awaiting`: the comment may still come, and the post says until when."""
    until = t.rated_at + COMMENT_WINDOW if awaiting and not t.rating_comment else None
    reply = for_channel(ctx.session, now=ctx.now, settings=ctx.settings,
                        build=lambda v: low_rating_alert(v, t, comment_until=until))
    chans = ctx.channels
    if edit:
        notify.edit_service_post(ctx.session, chans, key=key, version="comment", reply=reply, now=ctx.now)
    else:
        notify.to_service_channel(ctx.session, chans, key=key, reply=reply, now=ctx.now)


def rate(ctx: Ctx, code: str, n: int) -> Ticket:
    """A bound customer rates their closed ticket (button `/rate CODE N`)."""
    if ctx.binding is None or ctx.staff is not None:
        raise NotFound("tk.not_found", code=code)
    t = tickets.get_ticket(ctx, code)
    if t.customer_id != ctx.binding.customer_id:
        raise NotFound("tk.not_found", code=code)
    if t.rating is not None:
        raise Conflict("rate.already", code=t.code)
    if t.status != "closed":
        raise Conflict("rate.not_closed", code=t.code)
    _store(ctx, t, n, None, awaiting=True)
    return t


def add_comment(ctx: Ctx, code: str, comment: str | None) -> None:
    """The optional comment after a rating (None: skipped): only the rating chat's customer, only once."""
    if ctx.binding is None:
        return
    t = tickets.get_ticket(ctx, code)
    if t.customer_id != ctx.binding.customer_id or t.rating is None or t.rating_comment:
        return
    if comment and comment.strip():
        t.rating_comment = comment.strip()
        tickets.add_event(ctx, t, "comment", text=t.rating_comment)
    if t.rating <= 2:  # the alert posted at the rating is edited in place (one post per rating): the comment,
        _alert(ctx, t, key=f"recovery:{t.code}", edit=True)  # or that none is coming


def comment_too_late(ctx: Ctx, code: str) -> bool:
    """Has the window for the rating's comment passed (so the message is something else)?"""
    t = tickets.get_ticket(ctx, code)
    return t.rated_at is None or ctx.now - t.rated_at > COMMENT_WINDOW


def record_phone_rating(ctx: Ctx, t: Ticket, n: int, comment: str | None) -> None:
    """An agent records a rating the customer gave by phone."""
    tickets.require_handler(ctx, t)
    if t.status != "closed":
        raise Conflict("rate.not_closed", code=t.code)
    _store(ctx, t, n, comment)


# ---------------------------------------------------------------- jobs


def auto_close_due(session: Session, *, now: datetime, settings: DomainSettings,
                   channels: dict[str, str]) -> int:
    """Close tickets resolved longer than `settings.auto_close_after` ago (no reopen); ask for ratings."""
    ctx = job_ctx(session, now=now, settings=settings, channels=channels)
    rows = repo.list_resolved_before(session, before=now - settings.auto_close_after)
    n = 0
    for t in rows:
        try:
            with session.begin_nested():
                tickets.close(ctx, t, kind="auto_closed")
            n += 1
        except Conflict:  # the customer or staff closed it at the same moment: nothing left to do
            continue
    session.flush()
    return n


def send_rating_reminders(session: Session, *, now: datetime, settings: DomainSettings) -> int:
    """One reminder, 24 h after the close, to customers who have not rated. Never again."""
    rows = repo.list_rating_reminders_due(session, closed_before=now - REMIND_AFTER)
    ctx = job_ctx(session, now=now, settings=settings)
    n = 0
    for t in rows:
        t.rating_reminded_at = now
        for b in repo.customer_chats(session, ticket=t):
            notify.to_binding(session, b, key=f"tk:{t.code}:rate_reminder:{b.id}", now=now,
                              reply=rating_reminder(ctx, b, t))
            n += 1
    session.flush()
    return n


# ---------------------------------------------------------------- /report csat


def closed_between(ctx: Ctx, *, start: datetime, end: datetime) -> list[Ticket]:
    """The tickets closed in [start, end), for `/report csat` (supervisors, admins and managers)."""
    return repo.list_closed_between(ctx.session, start=start, end=end)
