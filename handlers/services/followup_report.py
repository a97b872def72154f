"""`/report followups [PERIOD] [owner:…|team:…]`: per rep the follow-ups logged by method (credited to who made
the call, the author `staff_id`), the customers they reached, their overdue count (the follow-ups they owe
now, `assignee_id`) and their cadence compliance by grade: the share of the A/B/C customers they own whose
last follow-up (by anyone) is within the grade's cadence (`CRM_CADENCE_{A,B,C}_DAYS`: 7/14/30 days) at the
period's end, or now for a period still running. Lost customers are left out. With the weekly trend of
follow-ups logged (the period's weeks, at least the 8 up to its end).

Managers see each rep of their team, admins every sales rep and manager, reps themselves. The table and chart
are `handlers.cards.reports.followups_report`.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from handlers import charts
from handlers.cards.reports import GRADES, FollowupReport
from handlers.context import Ctx
from handlers.permissions import team_ids
from handlers.services.followups import SALES_METHODS
from handlers.spans import Scope, trend_weeks, week_span
from storage.models import Staff
from storage.repos import followups as followup_repo
from storage.repos import staff as staff_repo


def _people(ctx: Ctx, scope: Scope) -> list[Staff]:
    if ctx.role == "manager":
        ids = team_ids(ctx)
    elif ctx.role != "admin":
        return [ctx.staff]
    else:
        ids = None
    if scope.staff_ids is not None:
        ids = set(scope.staff_ids) if ids is None else ids & scope.staff_ids
    return staff_repo.list_sales(ctx.session, ids=ids)


def followup_report(ctx: Ctx, *, start: datetime, end: datetime, scope: Scope | None = None) -> FollowupReport:
    people = _people(ctx, scope or Scope())
    ids = [p.id for p in people]
    s = ctx.session
    rows = followup_repo.logged_by_method(s, staff_ids=ids, start=start, end=end,
                                          methods=SALES_METHODS)  # a complaint's trace (`service`) is no sales call
    by: dict[int, Counter] = {i: Counter() for i in ids}
    for sid, method, n in rows:
        by[sid][method] += n
    as_of = min(end, ctx.now)
    cadence: dict[int, dict[str, list[int]]] = {i: {g: [0, 0] for g in GRADES} for i in ids}
    for owner, grade, last in followup_repo.last_touch_of_owned(s, owner_ids=ids, at=as_of, methods=SALES_METHODS):
        g = grade if grade in GRADES else "C"
        cadence[owner][g][1] += 1
        if last is not None and last > as_of - timedelta(days=ctx.settings.cadence_days(g)):
            cadence[owner][g][0] += 1
    weeks = trend_weeks(ctx, start, end)
    t0, t1 = week_span(ctx, weeks)
    pos = {w: i for i, w in enumerate(weeks)}
    weekly = {i: [0] * len(weeks) for i in ids}
    for sid, d in followup_repo.logged_dates(s, staff_ids=ids, start=t0, end=t1, methods=SALES_METHODS):
        i = pos.get(charts.week_of(d.astimezone(ctx.tz).date()))
        if i is not None:
            weekly[sid][i] += 1
    return FollowupReport(
        people=people, logged=by, overdue=followup_repo.overdue_by_assignee(s, staff_ids=ids, now=ctx.now),
        touched=followup_repo.touched_by_author(s, staff_ids=ids, start=start, end=end, methods=SALES_METHODS),
        cadence={i: {g: (a, b) for g, (a, b) in c.items()} for i, c in cadence.items()}, as_of=as_of,
        weeks=weeks, weekly=weekly)
