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
from handlers.errors import Forbidden
from handlers.reports import parse_period, report
from handlers.services import followup_report, opportunities, ratings, sla  # noqa: F401 - their @report kinds (service desk)
from handlers.views import Action, Button, Buttons, Reply, Text


@report("pipeline", roles=("admin", "manager", "rep"), aliases=("opps", "销售漏斗", "漏斗"))
def report_pipeline(ctx: Ctx, args: str) -> Reply:
    """Opportunities created in PERIOD (default: this year) that the viewer may see, per stage and owner."""
    start, end = parse_period(ctx, args, default="year")
    p = opportunities.pipeline(ctx, start=start, end=end)
    return cards.pipeline_report(ctx, start=start, end=end, total=p.total, per_stage=p.per_stage,
                                 by_owner=p.by_owner, names=p.names)


@report("followups", roles=("admin", "manager", "rep"), aliases=("fu", "跟进"))
def report_followups(ctx: Ctx, args: str) -> Reply:
    start, end = parse_period(ctx, args, default="week")
    r = followup_report.followup_report(ctx, start=start, end=end)
    return cards.followups_report(ctx, start=start, end=end, people=r.people, logged=r.logged, overdue=r.overdue)


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
