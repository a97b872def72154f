"""What the service desk posts and reports: the service-channel posts (new ticket, assigned, SLA alert, low
rating), the weekly complaint review, `/report sla` and `/report csat`, and the invite and its redemption.

Built from records (and the small result dataclasses of the services) for one viewer `Ctx`; cards read through
storage/repos and never call services or commands.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.cards.tickets import assign_select, card, fmt_dur, summary_fields
from handlers.context import Ctx
from handlers.i18n import ENUMS, enum_label
from handlers.views import Action, Button, Buttons, Fields, Header, ListItem, ListPage, Reply, Text
from storage.models import Contact, Customer, Invite, SlaBreach, Staff, Ticket
from storage.repos.tickets import KINDS, OPEN, due_of

MAX_LINES = 10


def _period(v: Ctx, start: datetime, end: datetime) -> str:
    return f"{v.fmt_dt(start, date_only=True)} – {v.fmt_dt(end - timedelta(seconds=1), date_only=True)}"


# ---------------------------------------------------------------- service-channel posts


def _post_fields(v: Ctx, t: Ticket) -> Fields:
    items = summary_fields(v, t)
    items += [(v.t(f"sla.kind.{k}"), v.fmt_dt(due_of(t, k))) for k in KINDS if due_of(t, k)]
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


def sla_alert(v: Ctx, t: Ticket, kind: str, level: int) -> Reply:
    """An escalation: level 1 to the service channel (with Assign controls while nobody has the ticket),
    level 2 to a manager or the leads."""
    c = v.session.get(Customer, t.customer_id)
    head = v.t(f"sla.alert.l{level}", code=t.code, kind=v.t(f"sla.kind.{kind}"),
               customer=c.name if c else "—", due=v.fmt_dt(due_of(t, kind)))
    r = Reply(views=(Text("⏰ " + head),), text=head) + card(v, t, log=False)
    if level == 1 and kind == "assign" and t.assignee_id is None:
        r += Reply(views=tuple(channel_controls(v, t)))
    return r


def low_rating_alert(v: Ctx, t: Ticket, *, comment_until: datetime | None = None) -> Reply:
    """The service-recovery post for a rating of 1 or 2: the comment, that it may still come (until
    `comment_until`), or that none came (the post is edited in place when it comes or is skipped)."""
    cust = v.session.get(Customer, t.customer_id)
    agent = v.session.get(Staff, t.assignee_id) if t.assignee_id else None
    if t.rating_comment:
        comment = t.rating_comment
    elif comment_until is not None:
        comment = v.t("rate.comment_pending", until=v.fmt_dt(comment_until))
    else:
        comment = v.t("rate.comment_none")
    msg = v.t("rate.low_alert", code=t.code, n=t.rating, customer=cust.name if cust else "—",
              agent=agent.name if agent else "—", comment=comment)
    return Reply(views=(Text("⚠ " + msg),))


# ---------------------------------------------------------------- the weekly complaint review


@dataclass(frozen=True)
class Review:
    start: datetime
    end: datetime
    created: list[Ticket]
    customer_names: dict[int, str]
    breaches: list[tuple[SlaBreach, str]]  # (level-1 breach, ticket code)
    lowest: list[Ticket]
    still_open: list[Ticket]


def _lines(rows: list[str], none: str) -> str:
    if not rows:
        return none
    more = f"\n… +{len(rows) - MAX_LINES}" if len(rows) > MAX_LINES else ""
    return "\n".join(rows[:MAX_LINES]) + more


def _grouped(v: Ctx, complaints: list[Ticket], field: str, kind: str, title_key: str) -> tuple:
    """The week's complaints counted by `field` (cause or emotion), most frequent first, the unrecorded last."""
    if not complaints:
        return ()
    counts = Counter(getattr(t, field) for t in complaints)
    rows = sorted(((k, n) for k, n in counts.items() if k), key=lambda kn: (-kn[1], ENUMS[kind].index(kn[0])
                                                                            if kn[0] in ENUMS[kind] else 99))
    items = [(enum_label(v.lang, kind, k), str(n)) for k, n in rows]
    if counts.get(None):
        items.append((v.t("review.not_recorded"), str(counts[None])))
    return (Text(v.t(title_key)), Fields(tuple(items)))


def review_post(v: Ctx, r: Review) -> Reply:
    by_type = {k: sum(1 for t in r.created if t.type == k) for k in ENUMS["ticket_type"]}

    def cause(t: Ticket) -> str:
        tail = v.t("review.cause", text=t.resolution) if t.resolution else enum_label(v.lang, "status", t.status)
        return f"{t.code} · {r.customer_names.get(t.customer_id, '—')}: {t.description[:60]} — {tail}"

    none, period = v.t("review.none"), _period(v, r.start, r.end)
    complaints = [t for t in r.created if t.type == "complaint"]
    return Reply(views=(
        Header("📋 " + v.t("review.title", period=period)),
        Fields(tuple((enum_label(v.lang, "ticket_type", k), str(n)) for k, n in by_type.items())),
        Text(v.t("review.complaints") + "\n" + _lines([cause(t) for t in complaints], none)),
        *_grouped(v, complaints, "cause", "complaint_cause", "review.by_cause"),
        *_grouped(v, complaints, "emotion", "emotion", "review.by_emotion"),
        Text(v.t("review.breaches") + "\n" + _lines(
            [f"{code} · {v.t('sla.kind.' + b.kind)} · {v.fmt_dt(b.due_at)}" for b, code in r.breaches], none)),
        Text(v.t("review.lowest") + "\n" + _lines(
            [f"{t.rating}★ {t.code}: {t.rating_comment or '—'}" for t in r.lowest], none)),
        Text(v.t("review.still_open") + "\n" + _lines(
            [f"{t.code} · {enum_label(v.lang, 'status', t.status)}" for t in r.still_open], none)),
    ), text=v.t("review.title", period=period))


# ---------------------------------------------------------------- /report sla and /report csat


def sla_report(v: Ctx, rows: list[tuple[SlaBreach, Ticket]], *, start: datetime, end: datetime) -> Reply:
    """The period's breaches (and, when the period reaches now, every breach still open), with counts."""
    current = end > v.now
    by_kind = {k: sum(1 for b, _ in rows if b.kind == k and b.level == 1 and start <= b.due_at < end) for k in KINDS}
    counts = [(v.t(f"sla.kind.{k}"), str(n)) for k, n in by_kind.items()]
    if current:
        counts.append((v.t("sla.open_now"), str(len({t.id for b, t in rows if b.met_at is None and t.status in OPEN}))))
    items = []
    for b, t in rows:
        state = v.t("sla.met_late", at=v.fmt_dt(b.met_at), by=fmt_dur(v, b.met_at - b.due_at)) \
            if b.met_at else v.t("sla.still_open")
        items.append(ListItem(text=v.t("sla.row", code=t.code, kind=v.t(f"sla.kind.{b.kind}"), level=b.level),
                              detail=v.t("sla.row_detail", due=v.fmt_dt(b.due_at), state=state)))
    return Reply(views=(
        Header(v.t("sla.report_title", period=_period(v, start, end))),
        Fields(tuple(counts)),
        ListPage(title=v.t("sla.report_list"), items=tuple(items[:50]), total=len(items),
                 empty_text=v.t("sla.none")),
    ))


def _csat_item(v: Ctx, aid: int | None, ts: list[Ticket]) -> ListItem:
    rated = [t.rating for t in ts if t.rating is not None]
    avg = f"{sum(rated) / len(rated):.1f}" if rated else "—"
    share = f"{100 * sum(1 for r in rated if r >= 4) // len(rated)}%" if rated else "—"
    low = sorted((t for t in ts if t.rating is not None and t.rating_comment), key=lambda t: t.rating)[:3]
    detail = v.t("csat.row", closed=len(ts), rated=len(rated), avg=avg, share=share)
    if low:
        detail += "\n" + "\n".join(f"{t.rating}★ {t.code}: {t.rating_comment}" for t in low)
    name = v.session.get(Staff, aid).name if aid else v.t("csat.unassigned")
    return ListItem(text=name, detail=detail)


def csat_report(v: Ctx, rows: list[Ticket], *, start: datetime, end: datetime) -> Reply:
    """Closed tickets of the period, rated and average, per agent (the busiest first)."""
    by_agent: dict[int | None, list[Ticket]] = defaultdict(list)
    for t in rows:
        by_agent[t.assignee_id].append(t)
    items = [_csat_item(v, aid, ts) for aid, ts in sorted(by_agent.items(), key=lambda p: -len(p[1]))]
    rated_all = [t.rating for t in rows if t.rating is not None]
    total_avg = f"{sum(rated_all) / len(rated_all):.1f}" if rated_all else "—"
    return Reply(views=(
        Header(v.t("csat.title", period=_period(v, start, end))),
        Fields(((v.t("csat.closed"), str(len(rows))), (v.t("csat.rated"), str(len(rated_all))),
                (v.t("csat.avg"), total_avg))),
        ListPage(title=v.t("csat.by_agent"), items=tuple(items), total=len(items), empty_text=v.t("csat.none")),
    ))


# ---------------------------------------------------------------- invites


def invite_reply(v: Ctx, inv: Invite, token: str, *, customer: Customer, contact: Contact) -> Reply:
    """The deep link (when the Telegram bot's name is known) and the `/start` line of a new invite."""
    bot = v.bot_names.get("telegram")
    link = v.t("inv.link", url=f"https://t.me/{bot}?start={token}") if bot else v.t("inv.no_bot_name")
    return Reply(views=(
        Header(v.t("inv.title", customer=customer.name, contact=contact.name)),
        Text(link),
        Text(v.t("inv.start_line", line=f"/start {token}")),
        Text(v.t("inv.expires", at=v.fmt_dt(inv.expires_at)), muted=True),
    ))


def redeemed_reply(v: Ctx, outcome: str, *, customer: Customer | None = None,
                   contact: Contact | None = None) -> Reply:
    """`bound`: the welcome; otherwise why not (`invalid`, `used`, `expired`)."""
    if outcome != "bound":
        return Reply(views=(Text(v.t(f"inv.{outcome}")),))
    return Reply(views=(Text(v.t("inv.welcome", contact=contact.name if contact else "",
                                 customer=customer.name if customer else "")),
                        Text(v.t("inv.what_now"), muted=True)))
