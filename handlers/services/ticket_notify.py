"""Notifications about tickets: the service-channel post and its in-place edit, and direct messages to agents.
All are outbox rows written in the caller's unit of work."""

from __future__ import annotations

from sqlalchemy import select

from handlers import notify
from handlers.context import Ctx
from handlers.services import sla
from handlers.views import Reply, Text
from storage.models import Outbox, Staff, Ticket, TicketEvent


def post_to_channel(ctx: Ctx, t: Ticket) -> None:
    from handlers.services.ticket_views import channel_post

    vctx = sla.job_ctx(ctx.session, now=ctx.now, settings=ctx.settings)
    notify.to_service_channel(ctx.session, channels(ctx), key=f"ticket:{t.code}",
                              reply=channel_post(vctx, t), now=ctx.now)


def channels(ctx: Ctx) -> dict[str, str]:
    return ctx.channels


def after_assign(ctx: Ctx, t: Ticket, agent: Staff, ev: TicketEvent) -> None:
    from handlers.services.ticket_views import assigned_post, card

    chans = channels(ctx)
    vctx = sla.job_ctx(ctx.session, now=ctx.now, settings=ctx.settings)
    # the new-ticket post and the assign-deadline alert both carry Assign controls: both show the outcome
    for base in (f"ticket:{t.code}", f"sla:{t.code}:assign:1"):
        posted = [p for p in chans if ctx.session.scalar(select(Outbox.id).where(Outbox.key == f"{base}@{p}"))]
        if posted:
            notify.edit_service_post(ctx.session, {p: chans[p] for p in posted}, key=base, version=f"e{ev.id}",
                                     reply=assigned_post(vctx, t, agent, ctx.staff, ev.at), now=ctx.now)
    if ctx.staff is not None and agent.id == ctx.staff.id:
        return
    actx = sla.job_ctx(ctx.session, now=ctx.now, settings=ctx.settings, staff=agent)
    intro = actx.t("tk.dm_assigned", code=t.code, by=ctx.staff.name if ctx.staff else "?")
    notify.to_staff(ctx.session, agent, key=f"tk:{t.code}:assigned:{ev.id}",
                    reply=Reply(views=(Text(intro),)) + card(actx, t, log=False), now=ctx.now)


def tell_assignee(ctx: Ctx, t: Ticket, msg_key: str, *, key: str, **params: object) -> None:
    """A direct message to the ticket's agent, in their language, with the ticket's buttons."""
    from handlers.services.ticket_views import controls

    agent = ctx.session.get(Staff, t.assignee_id) if t.assignee_id else None
    if agent is None or not agent.active:
        return
    actx = sla.job_ctx(ctx.session, now=ctx.now, settings=ctx.settings, staff=agent)
    msg = actx.t(msg_key, code=t.code, **params)
    notify.to_staff(ctx.session, agent, key=key, reply=Reply(views=(Text(msg), *controls(actx, t))), now=ctx.now)


def tell_moved_away(ctx: Ctx, t: Ticket, before: Staff | None, now_with: Staff, ev: TicketEvent) -> None:
    """The agent a ticket was taken from learns who has it now (unless they moved it themselves)."""
    if before is None or not before.active or (ctx.staff is not None and ctx.staff.id == before.id):
        return
    bctx = sla.job_ctx(ctx.session, now=ctx.now, settings=ctx.settings, staff=before)
    msg = bctx.t("tk.dm_moved_away", code=t.code, who=now_with.name, by=ctx.staff.name if ctx.staff else "?")
    notify.to_staff(ctx.session, before, key=f"tk:{t.code}:moved:{ev.id}", reply=Reply(views=(Text(msg),)),
                    now=ctx.now)
