"""`/report followups [PERIOD]`: follow-ups logged per rep (by method; credited to who made the call, the
author `staff_id`) and their overdue count (the follow-ups they owe now, `assignee_id`).

Managers see each rep of their team, admins every sales rep and manager, reps themselves.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from handlers.context import Ctx
from handlers.i18n import ENUMS, enum_label
from handlers.permissions import team_ids
from handlers.reports import parse_period, report
from handlers.services.followups import SALES_METHODS
from handlers.views import Fields, Header, Reply, Text
from storage.models import FollowUp, Staff


def _people(ctx: Ctx) -> list[Staff]:
    q = select(Staff).where(Staff.role.in_(("rep", "manager")))
    if ctx.role == "manager":
        q = q.where(Staff.id.in_(team_ids(ctx)))
    elif ctx.role != "admin":
        q = select(Staff).where(Staff.id == ctx.staff.id)
    return list(ctx.session.scalars(q.order_by(Staff.name)))


@report("followups", roles=("admin", "manager", "rep"), aliases=("fu", "跟进"))
def report_followups(ctx: Ctx, args: str) -> Reply:
    start, end = parse_period(ctx, args, default="week")
    people = _people(ctx)
    ids = [p.id for p in people]
    logged = ctx.session.execute(select(FollowUp.staff_id, FollowUp.method, func.count()).where(
        FollowUp.staff_id.in_(ids), FollowUp.deleted_at.is_(None), FollowUp.date >= start, FollowUp.date < end,
        FollowUp.method.in_(SALES_METHODS))  # a complaint's trace (`service`) is no sales call
        .group_by(FollowUp.staff_id, FollowUp.method)).all()
    overdue = dict(ctx.session.execute(select(FollowUp.assignee_id, func.count()).where(  # who owes them
        FollowUp.assignee_id.in_(ids), FollowUp.deleted_at.is_(None), FollowUp.done_at.is_(None),
        FollowUp.next_followup_at < ctx.now).group_by(FollowUp.assignee_id)).all())
    by: dict[int, Counter] = {i: Counter() for i in ids}
    for sid, method, n in logged:
        by[sid][method] += n
    items = []
    for p in people:
        c = by[p.id]
        methods = ", ".join(f"{enum_label(ctx.lang, 'method', m)} {c[m]}" for m in ENUMS["method"] if c[m])
        items.append((p.name, ctx.t("fu.report.row", total=sum(c.values()), methods=methods or "—",
                                    overdue=overdue.get(p.id, 0))))
    period = f"{start:%Y-%m-%d} – {end - timedelta(days=1):%Y-%m-%d}"
    views = [Header(ctx.t("fu.report.title", period=period))]
    views.append(Fields(tuple(items)) if items else Text(ctx.t("list.empty")))
    total = sum(sum(c.values()) for c in by.values())
    views.append(Text(ctx.t("fu.report.total", total=total, overdue=sum(overdue.values())), muted=True))
    return Reply(views=tuple(views))
