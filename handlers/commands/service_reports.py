"""The service desk's kinds of `/report`: `sla` (breaches) and `csat` (ratings). Each asks its service for the
records and its card for the view."""

from __future__ import annotations

from handlers.cards.service import csat_report, sla_report
from handlers.context import Ctx
from handlers.reports import parse_period, report
from handlers.services import ratings, sla
from handlers.views import Reply


@report("csat", roles=("admin", "supervisor", "manager"), aliases=("ratings", "满意度"))
def report_csat(ctx: Ctx, args: str) -> Reply:
    start, end = parse_period(ctx, args)
    return csat_report(ctx, ratings.closed_between(ctx, start=start, end=end), start=start, end=end)


@report("sla", roles=("admin", "supervisor", "manager", "agent"))
def report_sla(ctx: Ctx, args: str) -> Reply:
    """The period's breaches and, when the period reaches now, every breach still open (however long ago it
    fell due), those first: the tickets `/tickets breaching` lists are all here, with their count."""
    start, end = parse_period(ctx, args)
    return sla_report(ctx, sla.breaches_for_report(ctx, start=start, end=end), start=start, end=end)
