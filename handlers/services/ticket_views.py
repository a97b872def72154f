"""What tickets look like: the card, the channel post, and the messages to agents and customers.

Every builder takes a viewer `Ctx` (the recipient's language, zone and role) so that the same card shows each
viewer only the buttons they may use.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from handlers.context import Ctx
from handlers.i18n import enum_label
from handlers.services import sla
from handlers.views import Action, Button, Buttons, Fields, Header, Option, Reply, Select, Text
from storage.models import ChatBinding, Contact, Customer, Staff, Ticket, TicketEvent

LOG_LINES = 12
INTERNAL_EVENTS = ("note",)  # handling notes are for staff: a customer's card never shows them


def customer_ctx(ctx: Ctx, b: ChatBinding) -> Ctx:
    return Ctx(session=ctx.session, now=ctx.now, settings=ctx.settings, platform=b.platform,
               chat_ref=b.chat_ref, user_ref=b.user_ref or "", lang=b.lang, binding=b,
               channels=ctx.channels, bot_names=ctx.bot_names)


def _name(session, model, id_: int | None) -> str:  # noqa: ANN001
    obj = session.get(model, id_) if id_ else None
    return obj.name if obj is not None else "—"


def summary_fields(v: Ctx, t: Ticket) -> list[tuple[str, str]]:
    s = v.session
    items = [
        (v.t("tk.f.customer"), _name(s, Customer, t.customer_id)),
        (v.t("tk.f.type"), enum_label(v.lang, "ticket_type", t.type)),
        (v.t("tk.f.priority"), enum_label(v.lang, "priority", t.priority)),
        (v.t("tk.f.status"), enum_label(v.lang, "status", t.status)),
    ]
    if t.contact_id:
        items.insert(1, (v.t("tk.f.contact"), _name(s, Contact, t.contact_id)))
    if v.staff is not None or v.binding is None:  # staff and the service channel, not customers
        items.append((v.t("tk.f.assignee"), _name(s, Staff, t.assignee_id)))
    items.append((v.t("tk.f.created"), v.fmt_dt(t.created_at)))
    items.append((v.t("tk.f.description"), t.description))
    if t.resolution:
        items.append((v.t("tk.f.resolution"), t.resolution))
    if t.rating is not None:
        stars = "★" * t.rating + "☆" * (5 - t.rating)
        items.append((v.t("tk.f.rating"), f"{stars} {t.rating_comment or ''}".strip()))
    return items


def log_lines(v: Ctx, t: Ticket, limit: int = LOG_LINES) -> list[str]:
    q = select(TicketEvent).where(TicketEvent.ticket_id == t.id)
    if v.staff is None:  # a customer (or a channel): no internal notes
        q = q.where(TicketEvent.kind.not_in(INTERNAL_EVENTS))
    evs = list(v.session.scalars(q.order_by(TicketEvent.id.desc()).limit(limit)))[::-1]
    out = []
    for e in evs:
        who = _name(v.session, Staff, e.staff_id) if e.staff_id else (
            v.t("tk.log.customer") if e.contact_id else v.t("tk.log.system"))
        what = v.t(f"tk.ev.{e.kind}")
        if e.text:
            what += f": {e.text}"
        out.append(f"{v.fmt_dt(e.at)} · {who} · {what}")
    return out


def card(v: Ctx, t: Ticket, *, log: bool = True) -> Reply:
    views: list = [Header(v.t("tk.card_title", code=t.code,
                              status=enum_label(v.lang, "status", t.status)))]
    views.append(Fields(tuple(summary_fields(v, t))))
    clocks = sla.clock_lines(v, t) if v.staff is not None else []
    if clocks:
        views.append(Fields(tuple(clocks)))
    if log:
        lines = log_lines(v, t)
        if lines:
            views.append(Text(v.t("tk.log_title") + "\n" + "\n".join(lines), muted=True))
    views.extend(controls(v, t))
    return Reply(views=tuple(views))


def assign_select(v: Ctx, t: Ticket) -> Select:
    from handlers.services.tickets import agents_by_load

    opts = tuple(Option(v.t("tk.agent_option", name=a.name, n=n), Action(f"/ticket assign {t.code} {a.id}"))
                 for a, n in agents_by_load(v.session)[:25])
    return Select(v.t("tk.assign_placeholder"), opts)


def controls(v: Ctx, t: Ticket) -> list:
    from handlers.services.tickets import LEADS, accepted, customer_chats

    c = t.code
    out: list = []
    s = v.staff
    if s is None:
        if v.binding is not None and v.binding.customer_id == t.customer_id:
            if t.status == "resolved":
                out.append(Buttons((Button(v.t("tk.btn.confirm"), Action(f"/ticket confirm {c}"), "primary"),
                                    Button(v.t("tk.btn.reopen"), Action(f"/ticket reopen {c}")))))
            elif t.status == "closed" and t.rating is None:
                out.append(rate_buttons(v, t))
        return out
    lead = s.role in LEADS
    handler = lead or t.assignee_id == s.id
    if lead and t.status == "pending" and t.assignee_id is None:
        sel = assign_select(v, t)
        if sel.options:
            out.append(sel)
        out.append(Buttons((Button(v.t("tk.btn.take"), Action(f"/ticket take {c}")),)))
    btns = []
    if t.status == "in_progress" and t.assignee_id == s.id and not accepted(v.session, t):
        btns.append(Button(v.t("tk.btn.accept"), Action(f"/ticket accept {c}"), "primary"))
    if handler and t.status in ("pending", "in_progress") and t.assignee_id is not None:
        btns.append(Button(v.t("tk.btn.note"), Action(f"/ticket note {c}")))
        if customer_chats(v.session, t):
            btns.append(Button(v.t("tk.btn.reply"), Action(f"/ticket reply {c}")))
        btns.append(Button(v.t("tk.btn.resolve"), Action(f"/ticket resolve {c}")))
    if handler and t.status == "resolved":
        btns.append(Button(v.t("tk.btn.close"), Action(f"/ticket close {c}"), "primary"))
    if handler and t.status in ("resolved", "closed"):
        btns.append(Button(v.t("tk.btn.reopen"), Action(f"/ticket reopen {c}")))
    if btns:
        out.append(Buttons(tuple(btns)))
    return out


def rate_buttons(v: Ctx, t: Ticket) -> Buttons:
    return Buttons(tuple(Button(f"{n}★", Action(f"/rate {t.code} {n}")) for n in range(1, 6)))


# ---------------------------------------------------------------- channel posts


def _post_fields(v: Ctx, t: Ticket) -> Fields:
    items = summary_fields(v, t)
    items += [(v.t(f"sla.kind.{k}"), v.fmt_dt(sla.due_of(t, k))) for k in sla.KINDS if sla.due_of(t, k)]
    return Fields(tuple(items))


def channel_controls(v: Ctx, t: Ticket) -> list:
    """The Assign select (least loaded first) and Take it, for the service channel."""
    sel = assign_select(v, t)
    views: list = [sel] if sel.options else [Text(v.t("tk.no_agents"), muted=True)]
    views.append(Buttons((Button(v.t("tk.btn.take"), Action(f"/ticket take {t.code}")),)))
    return views


def channel_post(v: Ctx, t: Ticket) -> Reply:
    """The new-ticket post: summary, SLA deadlines and the assignment controls."""
    head = v.t("tk.post_title", code=t.code, type=enum_label(v.lang, "ticket_type", t.type),
               priority=enum_label(v.lang, "priority", t.priority))
    views: list = [Header("🚨 " + head), _post_fields(v, t), *channel_controls(v, t)]
    return Reply(views=tuple(views), text=head)


def assigned_post(v: Ctx, t: Ticket, agent: Staff, by: Staff | None, at: datetime | None = None) -> Reply:
    """The channel post once assigned (or reassigned: `at` is when this assignment happened)."""
    head = v.t("tk.post_title", code=t.code, type=enum_label(v.lang, "ticket_type", t.type),
               priority=enum_label(v.lang, "priority", t.priority))
    done = v.t("tk.post_assigned", who=agent.name, by=by.name if by else "—", at=v.fmt_dt(at or t.assigned_at))
    return Reply(views=(Header(head), _post_fields(v, t), Text("✅ " + done)), text=head)


# ---------------------------------------------------------------- to the customer


def customer_message(ctx: Ctx, b: ChatBinding, t: Ticket, text: str) -> Reply:
    v = customer_ctx(ctx, b)
    who = ctx.staff.name if ctx.staff else "—"
    return Reply(views=(Text(v.t("tk.cust_reply", code=t.code, who=who)), Text(text)))


def resolution_message(ctx: Ctx, b: ChatBinding, t: Ticket) -> Reply:
    v = customer_ctx(ctx, b)
    return Reply(views=(Header(v.t("tk.cust_resolved", code=t.code)), Text(t.resolution or ""),
                        Text(v.t("tk.cust_confirm_q"), muted=True), *controls(v, t)))


def rating_request(ctx: Ctx, b: ChatBinding, t: Ticket) -> Reply:
    v = customer_ctx(ctx, b)
    return Reply(views=(Text(v.t("rate.request", code=t.code)), rate_buttons(v, t)))
