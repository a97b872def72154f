"""Notifications about tickets: the service-channel post and its in-place edit, and direct messages to agents.
All are outbox rows written in the caller's unit of work. The service channels (platform → chat id) are passed
in by the caller (`ctx.channels` for a message, the job's for the scheduler)."""

from __future__ import annotations

from handlers import notify
from handlers.cards import tickets as cards
from handlers.cards.service import assigned_post, channel_post
from handlers.context import Ctx
from storage import outbox
from storage.models import Staff, Ticket, TicketEvent


def post_to_channel(ctx: Ctx, t: Ticket, *, channels: dict[str, str]) -> None:
    reply = cards.for_channel(ctx.session, now=ctx.now, settings=ctx.settings, build=lambda v: channel_post(v, t))
    notify.to_service_channel(ctx.session, channels, key=f"ticket:{t.code}", reply=reply, now=ctx.now)


def after_assign(ctx: Ctx, t: Ticket, agent: Staff, ev: TicketEvent, *, channels: dict[str, str]) -> None:
    post = cards.for_channel(ctx.session, now=ctx.now, settings=ctx.settings,
                             build=lambda v: assigned_post(v, t, agent, ctx.staff, ev.at))
    # the new-ticket post and the assign-deadline alert both carry Assign controls: both show the outcome
    for base in (f"ticket:{t.code}", f"sla:{t.code}:assign:1"):
        posted = [p for p in channels if outbox.exists(ctx.session, f"{base}@{p}")]
        if posted:
            notify.edit_service_post(ctx.session, {p: channels[p] for p in posted}, key=base, version=f"e{ev.id}",
                                     reply=post, now=ctx.now)
    if ctx.staff is not None and agent.id == ctx.staff.id:
        return
    actx = cards.job_ctx(ctx.session, now=ctx.now, settings=ctx.settings, staff=agent)
    notify.to_staff(ctx.session, agent, key=f"tk:{t.code}:assigned:{ev.id}",
                    reply=cards.assigned_to_you(actx, t, by=ctx.staff), now=ctx.now)


def tell_assignee(ctx: Ctx, t: Ticket, msg_key: str, *, key: str, **params: object) -> None:
    """A direct message to the ticket's agent, in their language, with the ticket's buttons."""
    agent = ctx.session.get(Staff, t.assignee_id) if t.assignee_id else None
    if agent is None or not agent.active:
        return
    actx = cards.job_ctx(ctx.session, now=ctx.now, settings=ctx.settings, staff=agent)
    notify.to_staff(ctx.session, agent, key=key, reply=cards.to_agent(actx, t, msg_key, **params), now=ctx.now)


def tell_moved_away(ctx: Ctx, t: Ticket, before: Staff | None, now_with: Staff, ev: TicketEvent) -> None:
    """The agent a ticket was taken from learns who has it now (unless they moved it themselves)."""
    if before is None or not before.active or (ctx.staff is not None and ctx.staff.id == before.id):
        return
    bctx = cards.job_ctx(ctx.session, now=ctx.now, settings=ctx.settings, staff=before)
    notify.to_staff(ctx.session, before, key=f"tk:{t.code}:moved:{ev.id}",
                    reply=cards.moved_away(bctx, t, now_with=now_with, by=ctx.staff), now=ctx.now)
