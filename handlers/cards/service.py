"""What the service desk posts and reports: the service-channel posts (new ticket, assigned, SLA alert, low
rating), the weekly complaint review, `/report sla` and `/report csat`, and the invite and its redemption.

Built from records (and the small result dataclasses of the services) for one viewer `Ctx`; cards read through
storage/repos and never call services or commands.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from matplotlib.figure import Figure

from handlers import charts
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
    weeks: list[date]  # the Mondays of the trend: the reviewed week and the 7 before it
    trend_created: list[Ticket]  # tickets created in those weeks
    trend_breaches: list[tuple[SlaBreach, str]]  # their level-1 breaches


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
    title = v.t("review.title", period=period)
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
    ), text=title, file=charts.chart_file(v, review_trend(v, r), "review", title))


def review_trend(v: Ctx, r: Review) -> Figure:
    """Complaints opened and SLA deadlines missed, week by week up to the reviewed one."""
    at = _week_index(v, r.weeks)
    complaints, breaches = [0] * len(r.weeks), [0] * len(r.weeks)
    for t in r.trend_created:
        i = at(t.created_at)
        if t.type == "complaint" and i is not None:
            complaints[i] += 1
    for b, _code in r.trend_breaches:
        i = at(b.due_at)
        if i is not None:
            breaches[i] += 1
    return charts.lines(title=v.t("review.trend"), categories=[charts.week_label(w) for w in r.weeks],
                        series=[(v.t("review.series.complaints"), complaints),
                                (v.t("review.series.breaches"), breaches)],
                        ylabel=v.t("review.trend_axis"), empty=v.t("report.chart.empty"), integer=True)


# ---------------------------------------------------------------- /report sla and /report csat


def _week_index(v: Ctx, weeks: list[date]) -> Callable[[datetime], int | None]:
    pos = {w: i for i, w in enumerate(weeks)}
    return lambda dt: pos.get(charts.week_of(dt.astimezone(v.tz).date()))


def sla_trend(v: Ctx, weeks: list[date], trend: list[tuple[SlaBreach, Ticket]]) -> Figure:
    """Level-1 breaches per week by kind (assign / first contact / resolve), by the week they fell due."""
    counts = {k: [0] * len(weeks) for k in KINDS}
    at = _week_index(v, weeks)
    for b, _t in trend:
        i = at(b.due_at)
        if b.level == 1 and i is not None:
            counts[b.kind][i] += 1
    return charts.lines(title=v.t("sla.trend"), categories=[charts.week_label(w) for w in weeks],
                        series=[(v.t(f"sla.kind.{k}"), counts[k]) for k in KINDS], ylabel=v.t("sla.trend_axis"),
                        empty=v.t("report.chart.empty"), integer=True)


def sla_report(v: Ctx, rows: list[tuple[SlaBreach, Ticket]], *, start: datetime, end: datetime,
               weeks: list[date], trend: list[tuple[SlaBreach, Ticket]]) -> Reply:
    """The period's breaches (and, when the period reaches now, every breach still open), with counts; the
    weekly trend of breaches by kind as a chart."""
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
    ), file=charts.chart_file(v, sla_trend(v, weeks, trend), "sla", v.t("sla.trend")))


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


def csat_trend(v: Ctx, weeks: list[date], trend: list[Ticket]) -> Figure:
    """The average rating of the tickets closed each week (a gap where none was rated)."""
    rated: list[list[int]] = [[] for _ in weeks]
    at = _week_index(v, weeks)
    for t in trend:
        i = at(t.closed_at) if t.closed_at else None
        if i is not None and t.rating is not None:
            rated[i].append(t.rating)
    avg = [round(sum(r) / len(r), 2) if r else None for r in rated]
    return charts.lines(title=v.t("csat.trend"), categories=[charts.week_label(w) for w in weeks],
                        series=[(v.t("csat.avg"), avg)], ylabel=v.t("csat.trend_axis"),
                        empty=v.t("report.chart.empty"), ylim=(1, 5.2))


def csat_report(v: Ctx, rows: list[Ticket], *, start: datetime, end: datetime, weeks: list[date],
                trend: list[Ticket]) -> Reply:
    """Closed tickets of the period, rated and average, per agent (the busiest first); the weekly average
    rating as a chart."""
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
    ), file=charts.chart_file(v, csat_trend(v, weeks, trend), "csat", v.t("csat.trend")))


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
