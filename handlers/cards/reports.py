"""Report tables and charts: `/report followups`, `funnel`, `forecast`, `customers` and `quality` as views (the numbers come from
services, which fill the dataclasses declared here). A chart is a PNG file on the reply (`handlers.charts`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from handlers import charts
from handlers.cards.opportunities import OPEN
from handlers.i18n import ENUMS, enum_label
from handlers.views import Action, Button, Fields, FileRef, Header, ListItem, ListPage, Reply, Text
from storage.models import Contact, Customer, FollowUp, Staff

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from handlers.context import Ctx
    from handlers.spans import Scope

FUNNEL = (*OPEN, "won")  # the funnel's steps: the open stages in order, then won


def _scoped(title: str, scope: Scope | None) -> str:
    return f"{title} · {scope.label}" if scope is not None and scope.label else title


GRADES = ("A", "B", "C")
MAX_LINES = 6  # a trend chart draws one line per person up to this many, else the team's total


@dataclass(frozen=True)
class FollowupReport:
    people: list[Staff]
    logged: dict[int, Counter]  # author id → {method: count}
    overdue: dict[int, int]  # assignee id → overdue follow-ups owed
    touched: dict[int, int]  # author id → different customers reached in the period
    cadence: dict[int, dict[str, tuple[int, int]]]  # owner id → {grade: (on cadence, customers)}
    as_of: datetime  # when cadence is judged: the period's end, or now
    weeks: list[date]  # the trend's Mondays
    weekly: dict[int, list[int]]  # author id → follow-ups logged per week


def _share(on: int, of: int) -> str:
    return f"{on * 100 // of}% ({on}/{of})" if of else "—"


def followups_report(ctx: Ctx, r: FollowupReport, *, start: datetime, end: datetime,
                     scope: Scope | None = None) -> Reply:
    """Per person: follow-ups logged by method, customers reached, the overdue ones they owe, cadence by
    grade; then the totals, and the weekly trend as a chart."""
    items = []
    for p in r.people:
        c = r.logged[p.id]
        methods = ", ".join(f"{enum_label(ctx.lang, 'method', m)} {c[m]}" for m in ENUMS["method"] if c[m])
        cad = " · ".join(f"{g} {_share(*r.cadence[p.id][g])}" for g in GRADES)
        items.append((p.name, ctx.t("fu.report.row", total=sum(c.values()), methods=methods or "—",
                                    overdue=r.overdue.get(p.id, 0))
                      + "\n" + ctx.t("fu.report.row2", touched=r.touched.get(p.id, 0), cadence=cad)))
    period = f"{start.astimezone(ctx.tz):%Y-%m-%d} – {(end - timedelta(days=1)).astimezone(ctx.tz):%Y-%m-%d}"
    title = _scoped(ctx.t("fu.report.title", period=period), scope)
    views = [Header(title)]
    views.append(Fields(tuple(items)) if items else Text(ctx.t("list.empty")))
    total = sum(sum(c.values()) for c in r.logged.values())
    views.append(Text(ctx.t("fu.report.total", total=total, overdue=sum(r.overdue.values())), muted=True))
    team = {g: [sum(r.cadence[p.id][g][i] for p in r.people) for i in (0, 1)] for g in GRADES}
    views.append(Text(ctx.t("fu.report.cadence", date=f"{r.as_of.astimezone(ctx.tz):%Y-%m-%d}",
                            a=_share(*team["A"]), b=_share(*team["B"]), c=_share(*team["C"]),
                            da=ctx.settings.cadence_a_days, db=ctx.settings.cadence_b_days,
                            dc=ctx.settings.cadence_c_days), muted=True))
    if 1 < len(r.people) <= MAX_LINES:
        series = [(p.name, r.weekly[p.id]) for p in r.people]
    else:
        series = [(ctx.t("fu.report.everyone") if len(r.people) != 1 else r.people[0].name,
                   [sum(r.weekly[p.id][i] for p in r.people) for i in range(len(r.weeks))])]
    fig = charts.lines(title=_scoped(ctx.t("fu.report.trend"), scope),
                       categories=[charts.week_label(w) for w in r.weeks], series=series,
                       ylabel=ctx.t("fu.report.trend_axis"), empty=ctx.t("report.chart.empty"), integer=True)
    return Reply(views=tuple(views), file=charts.chart_file(ctx, fig, "followups", title))


def _money(v: Decimal | float | int) -> str:
    return f"¥{Decimal(v):,.0f}"


def _rate(won: int, lost: int) -> str:
    return f"{won * 100 / (won + lost):.0f}%" if won + lost else "—"




def _pct(x: float | None) -> str:
    return f"{x * 100:.0f}%" if x is not None else "—"


# ---------------------------------------------------------------- /report funnel


@dataclass(frozen=True)
class Funnel:
    total: int
    per_stage: dict[str, list]  # stage → [count, amount] (amount: signed for won, expected for the others)
    reached: dict[str, int]  # funnel step → how many got at least that far
    conversion: list[float | None]  # step i → i+1 (None: nobody reached step i)
    won: int
    lost: int
    avg_days_to_win: float | None
    lost_reasons: list[tuple[str, int]]  # most frequent first
    by_owner: dict[int | None, dict[str, int]]  # owner id → {stage: count}
    names: dict[int, str]

    @property
    def win_rate(self) -> float | None:
        return self.won / (self.won + self.lost) if self.won + self.lost else None


def funnel_report(ctx: Ctx, f: Funnel, *, start: datetime, end: datetime, scope: Scope) -> Reply:
    """Per stage count and amount; stage-to-stage conversion; win rate, open amount and the average time to
    win; lost reasons ranked; then open / won / lost and win rate per owner. With the funnel chart."""
    stage = lambda st: enum_label(ctx.lang, "stage", st)  # noqa: E731
    items = tuple((stage(st), ctx.t("opp.rep.stage_line", count=n, amount=_money(a)))
                  for st, (n, a) in f.per_stage.items())
    conv = tuple((f"{stage(a)} → {stage(b)}", ctx.t("opp.rep.conv_line", rate=_pct(rate), to=f.reached[b],
                                                     frm=f.reached[a]))
                 for a, b, rate in zip(FUNNEL, FUNNEL[1:], f.conversion, strict=False))
    owners = []
    for sid, stages in sorted(f.by_owner.items(), key=lambda kv: f.names.get(kv[0]) or ""):
        w, lo = stages.get("won", 0), stages.get("lost", 0)
        open_n = sum(stages.get(st, 0) for st in OPEN)
        owners.append((f.names.get(sid) or "—", ctx.t("opp.rep.owner_line", open=open_n, won=w, lost=lo,
                                                       rate=_rate(w, lo))))
    open_amount = sum((a for st, (_n, a) in f.per_stage.items() if st in OPEN), Decimal(0))
    title = _scoped(ctx.t("opp.rep.title", start=ctx.fmt_dt(start, date_only=True),
                          end=ctx.fmt_dt(end - timedelta(seconds=1), date_only=True)), scope)
    summary = ctx.t("opp.rep.summary", total=f.total, rate=_rate(f.won, f.lost), amount=_money(open_amount))
    if f.avg_days_to_win is not None:
        summary += "\n" + ctx.t("opp.rep.avg_days", days=f"{f.avg_days_to_win:.1f}")
    views = [Header(title), Fields(items), Text(summary), Header(ctx.t("opp.rep.conversion")), Fields(conv)]
    if f.lost_reasons:
        views += [Header(ctx.t("opp.rep.lost_reasons")),
                  Fields(tuple((reason[:80], ctx.t("opp.rep.times", count=n)) for reason, n in f.lost_reasons[:5]))]
    if owners:
        views += [Header(ctx.t("opp.rep.by_owner")), Fields(tuple(owners))]
    return Reply(views=tuple(views), file=charts.chart_file(ctx, funnel_chart(ctx, f, scope=scope), "funnel", title))


def funnel_chart(ctx: Ctx, f: Funnel, *, scope: Scope | None = None, title: str | None = None) -> Figure:
    """How far the opportunities got, stage by stage, with the conversions between (`/report funnel` and
    the Monday team summary)."""
    won_amount = f.per_stage["won"][1]
    return charts.funnel(
        title=title or _scoped(ctx.t("opp.rep.chart"), scope), labels=[enum_label(ctx.lang, "stage", st) for st in FUNNEL],
        counts=[f.reached[st] for st in FUNNEL],
        notes=[ctx.t("opp.rep.won_note", count=f.reached[st], amount=_money(won_amount)) if st == "won"
               else str(f.reached[st]) for st in FUNNEL],
        conversions=[_pct(c) if c is not None else "" for c in f.conversion], empty=ctx.t("report.chart.empty"))


def funnel_file(ctx: Ctx, f: Funnel, *, start: datetime, end: datetime, scope: Scope | None = None) -> FileRef:
    """The funnel chart of [start, end) as the PNG file a message carries (the Monday team summary's)."""
    title = _scoped(ctx.t("opp.rep.title", start=ctx.fmt_dt(start, date_only=True),
                          end=ctx.fmt_dt(end - timedelta(seconds=1), date_only=True)), scope)
    return charts.chart_file(ctx, funnel_chart(ctx, f, scope=scope, title=title), "funnel", title)


# ---------------------------------------------------------------- /report forecast


@dataclass(frozen=True)
class Month:
    start: datetime  # local midnight of the 1st
    weighted: Decimal  # Σ expected amount × stage weight
    open_amount: Decimal  # Σ expected amount, unweighted
    open_count: int
    last_year_won: Decimal  # won (signed amounts) in the same month a year earlier


@dataclass(frozen=True)
class Forecast:
    months: list[Month]
    weights: dict[str, int]
    overdue: tuple[int, Decimal]  # open, expected to close before the first month: not forecast
    undated: tuple[int, Decimal]  # open without an expected close date: not forecast

    @property
    def weighted(self) -> Decimal:
        return sum((m.weighted for m in self.months), Decimal(0))

    @property
    def last_year_won(self) -> Decimal:
        return sum((m.last_year_won for m in self.months), Decimal(0))


def forecast_report(ctx: Ctx, fc: Forecast, *, scope: Scope) -> Reply:
    """Per month: the weighted forecast, the open opportunities behind it, last year's won amount; the totals,
    the weights, and what the forecast leaves out. With the bars of forecast against last year."""
    months = [f"{m.start:%Y-%m}" for m in fc.months]
    rows = tuple((label, ctx.t("fc.month_line", weighted=_money(m.weighted), count=m.open_count,
                               amount=_money(m.open_amount), last=_money(m.last_year_won)))
                 for label, m in zip(months, fc.months, strict=True))
    title = _scoped(ctx.t("fc.title", start=months[0], end=months[-1]), scope)
    weights = " · ".join(f"{enum_label(ctx.lang, 'stage', st)} {w}%" for st, w in fc.weights.items())
    views = [Header(title), Fields(rows),
             Text(ctx.t("fc.total", weighted=_money(fc.weighted), last=_money(fc.last_year_won))),
             Text(ctx.t("fc.weights", weights=weights), muted=True)]
    if fc.overdue[0]:
        views.append(Text(ctx.t("fc.overdue", count=fc.overdue[0], amount=_money(fc.overdue[1])), muted=True))
    if fc.undated[0]:
        views.append(Text(ctx.t("fc.undated", count=fc.undated[0], amount=_money(fc.undated[1])), muted=True))
    fig = charts.bars(title=_scoped(ctx.t("fc.chart"), scope), categories=months,
                      series=[(ctx.t("fc.series.weighted"), [float(m.weighted) for m in fc.months]),
                              (ctx.t("fc.series.last_year"), [float(m.last_year_won) for m in fc.months])],
                      ylabel=ctx.t("fc.axis"), fmt=charts.money_short, empty=ctx.t("report.chart.empty"))
    return Reply(views=tuple(views), file=charts.chart_file(ctx, fig, "forecast", title))


# ---------------------------------------------------------------- /report customers

TYPES = ("potential", "intent", "deal", "lost")
MAX_BARS = 8  # a panel shows the most frequent values, the rest as "other"


@dataclass(frozen=True)
class CustomerReport:
    new: int
    by_source: list[tuple[str | None, int]]  # most first; None: no source recorded
    by_industry: list[tuple[str, int]]
    changes: list[tuple[str | None, str | None, int]]  # (from type, to type, how many), along the path first
    now: dict[str, int]  # type → customers with it now


def _top(ctx: Ctx, rows: list[tuple[str, int]]) -> tuple[list[str], list[int]]:
    if len(rows) > MAX_BARS:
        rows = rows[:MAX_BARS - 1] + [(ctx.t("cr.other"), sum(n for _, n in rows[MAX_BARS - 1:]))]
    return [label for label, _ in rows], [n for _, n in rows]


def customers_report(ctx: Ctx, r: CustomerReport, *, start: datetime, end: datetime, scope: Scope) -> Reply:
    """New customers by source and industry, type changes (potential → intent → deal, and lost), the types
    now; the new customers' sources and industries as bars."""
    period = f"{start.astimezone(ctx.tz):%Y-%m-%d} – {(end - timedelta(days=1)).astimezone(ctx.tz):%Y-%m-%d}"
    title = _scoped(ctx.t("cr.title", period=period), scope)
    source = [(s or ctx.t("cr.no_source"), n) for s, n in r.by_source]
    industry = [(enum_label(ctx.lang, "industry", i), n) for i, n in r.by_industry]
    ctype = lambda v: enum_label(ctx.lang, "customer_type", v)  # noqa: E731
    views = [Header(title), Text(ctx.t("cr.new", count=r.new))]
    if r.new:
        views += [Header(ctx.t("cr.by_source")), Fields(tuple((k, str(n)) for k, n in source)),
                  Header(ctx.t("cr.by_industry")), Fields(tuple((k, str(n)) for k, n in industry))]
    views.append(Header(ctx.t("cr.changes")))
    views.append(Fields(tuple((f"{ctype(a)} → {ctype(b)}", str(n)) for a, b, n in r.changes)) if r.changes
                 else Text(ctx.t("cr.no_changes"), muted=True))
    views.append(Text(ctx.t("cr.now", types=" · ".join(f"{ctype(k)} {r.now.get(k, 0)}" for k in TYPES)),
                      muted=True))
    fig = charts.hbars(title=_scoped(ctx.t("cr.chart"), scope), empty=ctx.t("report.chart.empty"),
                       panels=[(ctx.t("cr.by_source"), *_top(ctx, source)),
                               (ctx.t("cr.by_industry"), *_top(ctx, industry))])
    return Reply(views=tuple(views), file=charts.chart_file(ctx, fig, "customers", title))


# ---------------------------------------------------------------- /report quality

QUALITY_ITEMS = 8  # the first items of each section, with their buttons; the rest are counted
MERGE_BUTTONS = 3  # Merge buttons per duplicate group (a larger group is merged a few at a time)
SECTIONS = ("duplicates", "missing", "invalid", "vague", "stale")


@dataclass(frozen=True)
class DuplicateGroup:
    customers: list[Customer]  # oldest first: the first one is what the others merge into
    shared: list[tuple[str, str]]  # (name | phone | email, the value they share)


@dataclass(frozen=True)
class BadValue:
    customer: Customer
    contact: Contact
    kind: str  # phone | email
    value: str


@dataclass(frozen=True)
class QualityReport:
    groups: int  # groups of likely duplicates
    grouped: int  # customers in them
    duplicates: list[DuplicateGroup]  # the first groups, oldest first
    no_contact: int  # customers without a contact person
    no_reach: int  # customers whose contacts have neither phone nor email
    missing: list[tuple[Customer, bool]]  # the first of both, oldest first: (customer, has a contact person)
    bad_phones: int
    bad_emails: int
    invalid: list[BadValue]  # the first invalid phones, then emails
    vague: int  # follow-ups that say nothing
    vague_items: list[tuple[FollowUp, Customer]]  # the latest of them
    stale: int  # owned customers without a follow-up for `stale_days`
    stale_items: list[Customer]  # the longest untouched first
    stale_days: int
    as_of: datetime
    names: dict[int, str]  # staff id → name

    def counts(self) -> dict[str, int]:
        return {"duplicates": self.groups, "missing": self.no_contact + self.no_reach,
                "invalid": self.bad_phones + self.bad_emails, "vague": self.vague, "stale": self.stale}


def merge_command(newer: Customer, older: Customer) -> str:
    """What a duplicate group's Merge button sends: the newer customer merges into the older one."""
    return f"/customer merge {newer.code} INTO {older.code}"


def _open(ctx: Ctx, c: Customer) -> Button:
    return Button(ctx.t("qr.btn.open"), Action(f"/customer {c.code}"))


def _edit(ctx: Ctx, c: Customer) -> Button:
    return Button(ctx.t("qr.btn.edit"), Action(f"/customer edit {c.code}"))


def _log(ctx: Ctx, c: Customer) -> Button:
    return Button(ctx.t("qr.btn.log"), Action(f"/log {c.code}"), "primary")


def _owner(ctx: Ctx, r: QualityReport, c: Customer) -> str:
    return r.names.get(c.owner_id, "—") if c.owner_id else ctx.t("qr.pool")


def _group_item(ctx: Ctx, r: QualityReport, g: DuplicateGroup) -> ListItem:
    keep = g.customers[0]
    shared = " · ".join(f"{ctx.t('qr.key.' + kind)} {value}" for kind, value in g.shared)
    lines = [ctx.t("qr.dup.member", code=c.code, name=c.name, owner=_owner(ctx, r, c),
                   date=ctx.fmt_dt(c.created_at, date_only=True)) for c in g.customers]
    buttons = [Button(ctx.t("qr.btn.merge", src=c.code, dst=keep.code), Action(merge_command(c, keep)),
                      "primary" if i == 0 else None) for i, c in enumerate(g.customers[1:1 + MERGE_BUTTONS])]
    return ListItem(f"{keep.name} ×{len(g.customers)}", "\n".join([ctx.t("qr.dup.shared", keys=shared), *lines]),
                    (*buttons, _open(ctx, keep)))


def _missing_item(ctx: Ctx, r: QualityReport, c: Customer, has_contact: bool) -> ListItem:
    why = ctx.t("qr.missing.no_reach" if has_contact else "qr.missing.no_contact")
    return ListItem(f"{c.code} {c.name}", f"{why} · {_owner(ctx, r, c)}", (_edit(ctx, c), _open(ctx, c)))


def _invalid_item(ctx: Ctx, r: QualityReport, b: BadValue) -> ListItem:
    detail = ctx.t(f"qr.invalid.{b.kind}", value=b.value, contact=b.contact.name)
    return ListItem(f"{b.customer.code} {b.customer.name}", f"{detail} · {_owner(ctx, r, b.customer)}",
                    (_edit(ctx, b.customer), _open(ctx, b.customer)))


def _vague_item(ctx: Ctx, r: QualityReport, fu: FollowUp, c: Customer) -> ListItem:
    content = " ".join((fu.content or "").split())[:40]
    detail = ctx.t("qr.vague.row", date=ctx.fmt_dt(fu.date, date_only=True), who=r.names.get(fu.staff_id, "—"),
                   method=enum_label(ctx.lang, "method", fu.method), content=content or "—")
    return ListItem(f"{c.code} {c.name}", detail,
                    (Button(ctx.t("qr.btn.edit_followup"), Action(f"/log edit {fu.id}"), "primary"),
                     _open(ctx, c)))


def _stale_item(ctx: Ctx, r: QualityReport, c: Customer) -> ListItem:
    if c.last_followup_at:
        when = ctx.t("qr.stale.last", date=ctx.fmt_dt(c.last_followup_at, date_only=True),
                     days=(r.as_of - c.last_followup_at).days)
    else:
        when = ctx.t("qr.stale.never", date=ctx.fmt_dt(c.created_at, date_only=True),
                     days=(r.as_of - c.created_at).days)
    return ListItem(f"{c.code} {c.name}", f"{when} · {_owner(ctx, r, c)}", (_log(ctx, c), _open(ctx, c)))


def quality_report(ctx: Ctx, r: QualityReport, *, scope: Scope) -> Reply:
    """The counts of each kind of problem, then per section its first items with the buttons that fix them:
    Merge (the newer into the older) for duplicates, Edit for missing or invalid contact data, Edit the
    follow-up for one that says nothing, Log for a stale customer; Open everywhere. The counts as bars."""
    title = _scoped(ctx.t("qr.title", date=ctx.fmt_dt(r.as_of, date_only=True)), scope)
    counts = r.counts()
    views: list = [Header(title)]
    if not any(counts.values()):
        views.append(Text(ctx.t("qr.clean")))
    views.append(Fields(tuple((ctx.t(f"qr.section.{k}"), ctx.t(f"qr.count.{k}", n=counts[k], days=r.stale_days))
                              for k in SECTIONS)))
    views.append(Text(ctx.t("qr.detail", customers=r.grouped, no_contact=r.no_contact, no_reach=r.no_reach,
                            phones=r.bad_phones, emails=r.bad_emails), muted=True))
    sections = (
        ("duplicates", r.groups, [_group_item(ctx, r, g) for g in r.duplicates]),
        ("missing", counts["missing"], [_missing_item(ctx, r, c, h) for c, h in r.missing]),
        ("invalid", counts["invalid"], [_invalid_item(ctx, r, b) for b in r.invalid]),
        ("vague", r.vague, [_vague_item(ctx, r, fu, c) for fu, c in r.vague_items]),
        ("stale", r.stale, [_stale_item(ctx, r, c) for c in r.stale_items]))
    for key, n, items in sections:
        if n:
            head = ctx.t(f"qr.list.{key}", n=n, days=r.stale_days)
            if n > QUALITY_ITEMS:
                head += " · " + ctx.t("qr.list.more", shown=QUALITY_ITEMS, n=n)
            views.append(ListPage(head, tuple(items[:QUALITY_ITEMS]), total=n))
    fig = charts.bars(title=_scoped(ctx.t("qr.chart"), scope), categories=[ctx.t(f"qr.section.{k}") for k in SECTIONS],
                      series=[(ctx.t("qr.chart.series"), [counts[k] for k in SECTIONS])], ylabel=ctx.t("qr.chart.axis"),
                      fmt=lambda v: f"{v:,.0f}", empty=ctx.t("qr.clean"))
    return Reply(views=tuple(views), text=title, file=charts.chart_file(ctx, fig, "quality", title))
