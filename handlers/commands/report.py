"""/report KIND [PERIOD] — dispatches to the kinds registered in handlers.reports.

The sales kinds are declared here: a service computes the numbers, a card in `handlers.cards.reports` lays
them out. The service desk's kinds are declared next to their services, imported below so they register
(first: `/report` offers the kinds in the order they registered).
"""

from __future__ import annotations

from handlers import reports
from handlers.cards import reports as cards
from handlers.commands.registry import command
from handlers.context import Ctx
from handlers.errors import Forbidden, InvalidInput
from handlers.reports import parse_args, parse_period, parse_scope, report
from handlers.services import customer_report, followup_report, quality_report, ratings, sales_report, sla  # noqa: F401 - their @report kinds (service desk)
from handlers.views import Action, Button, Buttons, Reply, Text


@report("funnel", roles=("admin", "manager", "rep"), aliases=("pipeline", "opps", "销售漏斗", "漏斗"))
def report_funnel(ctx: Ctx, args: str) -> Reply:
    """Opportunities created in PERIOD (default: this year) that the viewer may see: per stage, conversion,
    win rate, time to win, lost reasons, per owner; the funnel chart."""
    start, end, scope = parse_args(ctx, args, default="year")
    f = sales_report.funnel(ctx, start=start, end=end, scope=scope)
    return cards.funnel_report(ctx, f, start=start, end=end, scope=scope)


@report("forecast", roles=("admin", "manager", "rep"), aliases=("预测", "收入预测"))
def report_forecast(ctx: Ctx, args: str) -> Reply:
    """Expected revenue per month (default: this month and the next two), open opportunities weighted by
    stage, against what was won in the same months last year; bars."""
    rest, scope = parse_scope(ctx, args)
    start, end = parse_period(ctx, rest) if rest else sales_report.coming_quarter(ctx)
    return cards.forecast_report(ctx, sales_report.forecast(ctx, start=start, end=end, scope=scope), scope=scope)


@report("followups", roles=("admin", "manager", "rep"), aliases=("fu", "跟进"))
def report_followups(ctx: Ctx, args: str) -> Reply:
    start, end, scope = parse_args(ctx, args, default="week")
    r = followup_report.followup_report(ctx, start=start, end=end, scope=scope)
    return cards.followups_report(ctx, r, start=start, end=end, scope=scope)


@report("customers", roles=("admin", "manager", "rep"), aliases=("客户", "客户分析"))
def report_customers(ctx: Ctx, args: str) -> Reply:
    """New customers of PERIOD (default: this month) by source and industry, type changes, types now."""
    start, end, scope = parse_args(ctx, args)
    r = customer_report.customer_report(ctx, start=start, end=end, scope=scope)
    return cards.customers_report(ctx, r, start=start, end=end, scope=scope)


@report("quality", roles=quality_report.ROLES, aliases=("数据质量", "质量", "data"))
def report_quality(ctx: Ctx, args: str) -> Reply:
    """The book's data quality now: likely duplicates (with Merge), missing or invalid contact data, follow-ups
    that say nothing, stale customers — each with its first items and buttons; the counts as bars."""
    rest, scope = parse_scope(ctx, args)
    if rest:
        raise InvalidInput("qr.usage", value=rest)
    return cards.quality_report(ctx, quality_report.quality(ctx, scope=scope), scope=scope)


@command("report", aliases=("reports", "报表"), roles=("admin", "manager", "supervisor", "rep", "agent"), reads=True)
def cmd_report(ctx: Ctx, args: str) -> Reply:
    kind, _, rest = args.strip().partition(" ")
    allowed = [r for r in reports.REPORTS.values() if ctx.role in r.roles]
    if not kind:
        buttons = tuple(Button(ctx.t(f"report.name.{r.kind}"), Action(f"/report {r.kind}")) for r in allowed)
        return Reply(views=(Text(ctx.t("report.choose")), Buttons(buttons)))
    rep = reports.find(kind)
    if rep is None:
        names = ", ".join(r.kind for r in allowed)
        return Reply(views=(Text(ctx.t("report.unknown", kind=kind, kinds=names)),))
    if ctx.role not in rep.roles:
        raise Forbidden("report.forbidden", kind=rep.kind)
    return rep.func(ctx, rest.strip())
