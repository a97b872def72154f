"""`/report followups [PERIOD]`: follow-ups logged per rep (by method; credited to who made the call, the
author `staff_id`) and their overdue count (the follow-ups they owe now, `assignee_id`).

Managers see each rep of their team, admins every sales rep and manager, reps themselves. The table is
`handlers.cards.reports.followups_report`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from handlers.context import Ctx
from handlers.permissions import team_ids
from handlers.services.followups import SALES_METHODS
from storage.models import Staff
from storage.repos import followups as followup_repo
from storage.repos import staff as staff_repo


@dataclass(frozen=True)
class FollowupReport:
    people: list[Staff]
    logged: dict[int, Counter]  # author id → {method: count}
    overdue: dict[int, int]  # assignee id → overdue follow-ups owed


def _people(ctx: Ctx) -> list[Staff]:
    if ctx.role == "manager":
        return staff_repo.list_sales(ctx.session, ids=team_ids(ctx))
    if ctx.role != "admin":
        return [ctx.staff]
    return staff_repo.list_sales(ctx.session)


def followup_report(ctx: Ctx, *, start: datetime, end: datetime) -> FollowupReport:
    people = _people(ctx)
    ids = [p.id for p in people]
    rows = followup_repo.logged_by_method(ctx.session, staff_ids=ids, start=start, end=end,
                                          methods=SALES_METHODS)  # a complaint's trace (`service`) is no sales call
    by: dict[int, Counter] = {i: Counter() for i in ids}
    for sid, method, n in rows:
        by[sid][method] += n
    return FollowupReport(people, by, followup_repo.overdue_by_assignee(ctx.session, staff_ids=ids, now=ctx.now))
