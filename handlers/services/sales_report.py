"""The numbers behind `/report funnel` and `/report forecast` (seed 002 §2.3; 003 §7). The tables and charts
are `handlers.cards.reports`.

Funnel, over the opportunities created in the period that the viewer may see (narrowed by `owner:`/`team:`):
count and amount per current stage (a won one at what was signed), how many reached each stage — an open one
reached its stage, a won one every stage, a lost one the furthest open stage its history shows — and so the
stage-to-stage conversion; the win rate (won / closed), the average days from creation to won, and the lost
reasons ranked.

Forecast, per month of the coming quarter (this month and the next two, or the months of a period given):
every open opportunity expected to close that month, its expected amount weighted by its stage
(`CRM_FORECAST_WEIGHTS`), against what was won in the same month a year earlier.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.sql.elements import ColumnElement

from handlers.cards.reports import FUNNEL, Forecast, Funnel, Month
from handlers.context import Ctx
from handlers.services.opportunities import OPEN, STAGES, opp_filter
from handlers.spans import Scope
from storage.models import Opportunity
from storage.repos import opportunities as opp_repo
from storage.repos import staff as staff_repo


def _where(ctx: Ctx, scope: Scope) -> ColumnElement[bool]:
    where = opp_filter(ctx)
    if scope.staff_ids is not None:
        where = where & Opportunity.owner_id.in_(scope.staff_ids)
    return where


def _furthest(o: Opportunity, history: list) -> int:
    """How far along FUNNEL an opportunity got (an index)."""
    if o.stage == "won":
        return len(FUNNEL) - 1
    if o.stage in OPEN:
        return OPEN.index(o.stage)
    seen = [OPEN.index(s) for h in history for s in (h.from_stage, h.to_stage) if s in OPEN]
    return max(seen, default=0)


def funnel(ctx: Ctx, *, start: datetime, end: datetime, scope: Scope) -> Funnel:
    rows = opp_repo.created_between(ctx.session, where=_where(ctx, scope), start=start, end=end)
    history: dict[int, list] = defaultdict(list)
    for h in opp_repo.stage_rows(ctx.session, opportunity_ids=[o.id for o in rows]):
        history[h.opportunity_id].append(h)
    per: dict[str, list] = {st: [0, Decimal(0)] for st in STAGES}
    by_owner: dict[int | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    furthest = Counter()
    days, reasons, spelled = [], Counter(), {}
    for o in rows:
        per[o.stage][0] += 1
        per[o.stage][1] += opp_repo.amount_of(o) or 0
        by_owner[o.owner_id][o.stage] += 1
        furthest[_furthest(o, history[o.id])] += 1
        if o.stage == "won":
            won_at = max((h.at for h in history[o.id] if h.to_stage == "won"), default=None)
            if won_at is not None:
                days.append((won_at - o.created_at).total_seconds() / 86400)
        elif o.stage == "lost" and (o.lost_reason or "").strip():
            key = " ".join(o.lost_reason.split()).casefold()
            spelled.setdefault(key, " ".join(o.lost_reason.split()))
            reasons[key] += 1
    reached = {st: sum(n for i, n in furthest.items() if i >= k) for k, st in enumerate(FUNNEL)}
    steps = [reached[st] for st in FUNNEL]
    conversion = [steps[i + 1] / steps[i] if steps[i] else None for i in range(len(steps) - 1)]
    ranked = sorted(reasons.items(), key=lambda kv: (-kv[1], spelled[kv[0]]))
    return Funnel(len(rows), per, reached, conversion, per["won"][0], per["lost"][0],
                  sum(days) / len(days) if days else None, [(spelled[k], n) for k, n in ranked], by_owner,
                  staff_repo.names(ctx.session))


# ---------------------------------------------------------------- forecast


def month_starts(start: datetime, end: datetime) -> list[datetime]:
    """The first of each month from `start`'s month up to (not including) `end`, local midnights."""
    out, m = [], start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while m < end:
        out.append(m)
        m = _next_month(m)
    return out


def _next_month(m: datetime) -> datetime:
    return m.replace(year=m.year + (m.month == 12), month=m.month % 12 + 1)


def coming_quarter(ctx: Ctx) -> tuple[datetime, datetime]:
    """This month and the next two, in the viewer's zone."""
    first = ctx.now.astimezone(ctx.tz).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return first, _next_month(_next_month(_next_month(first)))


def forecast(ctx: Ctx, *, start: datetime, end: datetime, scope: Scope) -> Forecast:
    where, weights = _where(ctx, scope), ctx.settings.forecast_weights
    starts = month_starts(start, end)
    first_day: date = starts[0].date()
    buckets: dict[date, list] = {m.date(): [Decimal(0), Decimal(0), 0] for m in starts}
    overdue, undated = [0, Decimal(0)], [0, Decimal(0)]
    for o in opp_repo.open_ones(ctx.session, where=where):
        amount = o.expected_amount or Decimal(0)
        d = o.expected_close_date
        if d is None:
            undated[0] += 1
            undated[1] += amount
            continue
        if d < first_day:
            overdue[0] += 1
            overdue[1] += amount
            continue
        b = buckets.get(d.replace(day=1))
        if b is not None:
            b[0] += amount * weights[o.stage] / 100
            b[1] += amount
            b[2] += 1
    months = []
    for m in starts:
        ly = m.replace(year=m.year - 1)
        won = opp_repo.won_between(ctx.session, where=where, start=ly, end=_next_month(ly))
        w, a, n = buckets[m.date()]
        months.append(Month(m, w, a, n, sum((o.actual_amount or Decimal(0) for o, _ in won), Decimal(0))))
    return Forecast(months, dict(weights), (overdue[0], overdue[1]), (undated[0], undated[1]))
