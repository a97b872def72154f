"""What a ticket looks like: the card with its SLA clocks, log and buttons, a queue's list item, and the
messages to its customer. Built from records for one viewer `Ctx` (the recipient's language, zone and role),
so that the same card shows each viewer only the buttons they may use.

Cards read through storage/repos and never call services or commands.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Session

from handlers.context import Ctx
from handlers.i18n import enum_label, norm_lang
from handlers.settings import DomainSettings
from handlers.views import Action, Button, Buttons, Fields, Header, ListItem, Option, Reply, Select, Text
from storage.models import ChatBinding, Contact, Customer, Staff, Ticket
from storage.repos import service as service_repo
from storage.repos import tickets as repo
from storage.repos.tickets import KINDS, OPEN, due_of, met_of

LOG_LINES = 12
INTERNAL_EVENTS = ("note",)  # handling notes are for staff: a customer's card never shows them


def job_ctx(session: Session, *, now: datetime, settings: DomainSettings, lang: str | None = None,
            staff: Staff | None = None, channels: dict[str, str] | None = None) -> Ctx:
    """A viewer context for jobs and notifications (a recipient's language and zone, or the channel's)."""
    return Ctx(session=session, now=now, settings=settings, platform="", chat_ref="", user_ref="",
               lang=lang or (staff.lang if staff else settings.channel_lang), staff=staff,
               channels=dict(channels or {}))


def channel_langs(session: Session, settings: DomainSettings) -> tuple[str, ...]:
    """The languages of the supervisor channel's posts: `CRM_SERVICE_LANG` when set; else the one language
    the active supervisors share; both, Chinese first, when they are mixed; `CRM_DEFAULT_LANG` without any."""
    if settings.service_lang:
        return (settings.service_lang,)
    langs = {norm_lang(x) for x in service_repo.supervisor_langs(session)}
    if len(langs) > 1:
        return tuple(sorted(langs, key=lambda x: x != "zh"))  # zh first
    return (langs.pop(),) if langs else (settings.default_lang,)


def for_channel(session: Session, *, now: datetime, settings: DomainSettings,
                build: Callable[[Ctx], Reply]) -> Reply:
    """A supervisor-channel post built by `build(viewer)` in the channel's language(s) (`channel_langs`). In two
    languages, each part's text follows the other and the controls come once, their labels in both."""
    replies = [build(job_ctx(session, now=now, settings=settings, lang=lang))
               for lang in channel_langs(session, settings)]
    return replies[0] if len(replies) == 1 else both_languages(replies)


def _controls(first: object, *others: object) -> object:
    def label(*ls: str) -> str:
        return " / ".join(dict.fromkeys(ls))  # the same word twice (a name) once

    if isinstance(first, Buttons):
        pairs = zip(first.buttons, *(o.buttons for o in others), strict=False)
        return Buttons(tuple(dataclasses.replace(bs[0], label=label(*(b.label for b in bs))) for bs in pairs))
    if isinstance(first, Select):
        return dataclasses.replace(first, placeholder=label(first.placeholder, *(o.placeholder for o in others)))
    return first


def both_languages(replies: list[Reply]) -> Reply:
    """One post out of the same post in several languages: every part's reading views in turn, then the
    first one's controls (buttons, selects) with their labels in every language."""
    def interactive(v: object) -> bool:
        return isinstance(v, Buttons | Select)

    views = [v for r in replies for v in r.views if not interactive(v)]
    controls = [[v for v in r.views if interactive(v)] for r in replies]
    views += [_controls(c, *(other[i] for other in controls[1:] if i < len(other) and type(other[i]) is type(c)))
              for i, c in enumerate(controls[0])]
    return dataclasses.replace(replies[0], views=tuple(views),
                               text="\n\n".join(r.text for r in replies if r.text))


def customer_ctx(ctx: Ctx, b: ChatBinding) -> Ctx:
    """The customer's chat `b` as a viewer (its language, no staff role)."""
    return Ctx(session=ctx.session, now=ctx.now, settings=ctx.settings, platform=b.platform,
               chat_ref=b.chat_ref, user_ref=b.user_ref or "", lang=b.lang, binding=b,
               channels=ctx.channels, bot_names=ctx.bot_names)


def _name(session, model, id_: int | None) -> str:  # noqa: ANN001
    obj = session.get(model, id_) if id_ else None
    return obj.name if obj is not None else "—"


# ---------------------------------------------------------------- SLA clocks as text


def fmt_dur(ctx: Ctx, td: timedelta) -> str:
    mins = max(0, int(td.total_seconds() // 60))
    d, rest = divmod(mins, 1440)
    h, m = divmod(rest, 60)
    parts = []
    if d:
        parts.append(ctx.t("sla.unit.d", n=d))
    if h:
        parts.append(ctx.t("sla.unit.h", n=h))
    if m or not parts:
        parts.append(ctx.t("sla.unit.m", n=m))
    return " ".join(parts[:2])


def clock_lines(ctx: Ctx, t: Ticket) -> list[tuple[str, str]]:
    """(label, state) per started clock: met (late?), time left, or overdue by."""
    out = []
    for kind in KINDS:
        due = due_of(t, kind)
        if due is None:
            continue
        met = met_of(t, kind)
        label = ctx.t(f"sla.kind.{kind}")
        if met is not None:
            key = "sla.met_late" if met > due else "sla.met"
            out.append((label, ctx.t(key, at=ctx.fmt_dt(met), by=fmt_dur(ctx, met - due))))
        elif t.status not in OPEN:
            continue
        elif due > ctx.now:
            out.append((label, ctx.t("sla.left", left=fmt_dur(ctx, due - ctx.now), due=ctx.fmt_dt(due))))
        else:
            out.append((label, "⏰ " + ctx.t("sla.overdue", by=fmt_dur(ctx, ctx.now - due), due=ctx.fmt_dt(due))))
    return out


# ---------------------------------------------------------------- the card


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
    if t.type == "complaint" and (v.staff is not None or v.binding is None):  # staff's notes, not the customer's
        items += [(v.t(f"cmp.f.{f}"), enum_label(v.lang, kind, getattr(t, f)))
                  for f, kind in (("emotion", "emotion"), ("cause", "complaint_cause")) if getattr(t, f)]
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
    exclude = INTERNAL_EVENTS if v.staff is None else ()  # a customer (or a channel): no internal notes
    out = []
    for e in repo.list_events(v.session, ticket_id=t.id, exclude=exclude, limit=limit):
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
    clocks = clock_lines(v, t) if v.staff is not None else []
    if clocks:
        views.append(Fields(tuple(clocks)))
    if log:
        lines = log_lines(v, t)
        if lines:
            views.append(Text(v.t("tk.log_title") + "\n" + "\n".join(lines), muted=True))
    views.extend(controls(v, t))
    return Reply(views=tuple(views))


def card_with(v: Ctx, t: Ticket, msg_key: str | None = None, **params: object) -> Reply:
    """The card, after a line saying what just happened (`msg_key`)."""
    r = card(v, t)
    if msg_key:
        r = Reply(views=(Text(v.t(msg_key, code=t.code, **params)),)) + r
    return r


def created(v: Ctx, t: Ticket, *, routed: bool) -> Reply:
    key = "tk.created_routed" if routed else "tk.created_queued"
    return Reply(views=(Text(v.t(key, code=t.code)),)) + card(v, t, log=False)


def assign_select(v: Ctx, t: Ticket) -> Select:
    opts = tuple(Option(v.t("tk.agent_option", name=a.name, n=n), Action(f"/ticket assign {t.code} {a.id}"))
                 for a, n in service_repo.agents_by_load(v.session)[:25])
    return Select(v.t("tk.assign_placeholder"), opts)


def _customer_controls(v: Ctx, t: Ticket) -> list:
    out: list = []
    if v.binding is not None and v.binding.customer_id == t.customer_id:
        c = t.code
        if t.status == "resolved":
            out.append(Buttons((Button(v.t("tk.btn.confirm"), Action(f"/ticket confirm {c}"), "primary"),
                                Button(v.t("tk.btn.reopen"), Action(f"/ticket reopen {c}")))))
        elif t.status == "closed" and t.rating is None:
            out.append(rate_buttons(v, t))
    return out


def controls(v: Ctx, t: Ticket) -> list:
    s = v.staff
    if s is None:
        return _customer_controls(v, t)
    c = t.code
    out: list = []
    lead = s.role in service_repo.LEADS
    handler = lead or t.assignee_id == s.id
    if lead and t.status == "pending" and t.assignee_id is None:
        sel = assign_select(v, t)
        if sel.options:
            out.append(sel)
        out.append(Buttons((Button(v.t("tk.btn.take"), Action(f"/ticket take {c}")),)))
    btns = []
    if t.status == "in_progress" and t.assignee_id == s.id and not repo.is_accepted(v.session, ticket=t):
        btns.append(Button(v.t("tk.btn.accept"), Action(f"/ticket accept {c}"), "primary"))
    if handler and t.status in ("pending", "in_progress") and t.assignee_id is not None:
        btns.append(Button(v.t("tk.btn.note"), Action(f"/ticket note {c}")))
        if repo.customer_chats(v.session, ticket=t):
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


def list_item(v: Ctx, t: Ticket) -> ListItem:
    """A ticket in a `/tickets` queue: code, status, type, priority; the customer, the description and, for
    staff, the overdue clocks; an Open button."""
    cust = v.session.get(Customer, t.customer_id)
    text = f"{t.code} · {enum_label(v.lang, 'status', t.status)} · " \
           f"{enum_label(v.lang, 'ticket_type', t.type)} · {enum_label(v.lang, 'priority', t.priority)}"
    detail = [f"{cust.name if cust else '—'}: {t.description[:80]}"]
    if v.staff is not None:
        detail += [f"{k}: {s}" for k, s in clock_lines(v, t) if s.startswith("⏰")]
    return ListItem(text=text, detail="\n".join(detail),
                    buttons=(Button(v.t("tk.btn.open"), Action(f"/ticket {t.code}")),))


# ---------------------------------------------------------------- to the customer and the agents


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


def rating_reminder(ctx: Ctx, b: ChatBinding, t: Ticket) -> Reply:
    v = customer_ctx(ctx, b)
    return Reply(views=(Text(v.t("rate.reminder", code=t.code)), rate_buttons(v, t)))


def to_agent(v: Ctx, t: Ticket, msg_key: str, **params: object) -> Reply:
    """A direct message to the ticket's agent `v.staff`, with the ticket's buttons."""
    return Reply(views=(Text(v.t(msg_key, code=t.code, **params)), *controls(v, t)))


def assigned_to_you(v: Ctx, t: Ticket, *, by: Staff | None) -> Reply:
    intro = v.t("tk.dm_assigned", code=t.code, by=by.name if by else "?")
    return Reply(views=(Text(intro),)) + card(v, t, log=False)


def moved_away(v: Ctx, t: Ticket, *, now_with: Staff, by: Staff | None) -> Reply:
    return Reply(views=(Text(v.t("tk.dm_moved_away", code=t.code, who=now_with.name, by=by.name if by else "?")),))
