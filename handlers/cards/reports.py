"""Report tables: `/report followups` and `/report pipeline` as views (the numbers come from services)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from handlers.cards.opportunities import OPEN
from handlers.i18n import ENUMS, enum_label
from handlers.views import Fields, Header, Reply, Text
from storage.models import Staff

if TYPE_CHECKING:
    from handlers.context import Ctx


def followups_report(ctx: Ctx, *, start: datetime, end: datetime, people: list[Staff],
                     logged: dict[int, Counter], overdue: dict[int, int]) -> Reply:
    """Per person: follow-ups logged by method and the overdue ones they owe; then the totals."""
    items = []
    for p in people:
        c = logged[p.id]
        methods = ", ".join(f"{enum_label(ctx.lang, 'method', m)} {c[m]}" for m in ENUMS["method"] if c[m])
        items.append((p.name, ctx.t("fu.report.row", total=sum(c.values()), methods=methods or "—",
                                    overdue=overdue.get(p.id, 0))))
    period = f"{start:%Y-%m-%d} – {end - timedelta(days=1):%Y-%m-%d}"
    views = [Header(ctx.t("fu.report.title", period=period))]
    views.append(Fields(tuple(items)) if items else Text(ctx.t("list.empty")))
    total = sum(sum(c.values()) for c in logged.values())
    views.append(Text(ctx.t("fu.report.total", total=total, overdue=sum(overdue.values())), muted=True))
    return Reply(views=tuple(views))


def _money(v: Decimal | float | int) -> str:
    return f"¥{Decimal(v):,.0f}"


def _rate(won: int, lost: int) -> str:
    return f"{won * 100 / (won + lost):.0f}%" if won + lost else "—"


def pipeline_report(ctx: Ctx, *, start: datetime, end: datetime, total: int, per_stage: dict[str, list],
                    by_owner: dict[int | None, dict[str, int]], names: dict[int, str]) -> Reply:
    """Count and amount per stage, win rate, open amount; then open / won / lost and win rate per owner."""
    items = tuple((enum_label(ctx.lang, "stage", st), ctx.t("opp.rep.stage_line", count=n, amount=_money(a)))
                  for st, (n, a) in per_stage.items())
    rate = _rate(per_stage["won"][0], per_stage["lost"][0])
    owners = []
    for sid, stages in sorted(by_owner.items(), key=lambda kv: names.get(kv[0]) or ""):
        w, lo = stages.get("won", 0), stages.get("lost", 0)
        open_n = sum(stages.get(st, 0) for st in OPEN)
        owners.append((names.get(sid) or "—", ctx.t("opp.rep.owner_line", open=open_n, won=w, lost=lo,
                                                     rate=_rate(w, lo))))
    open_amount = sum((a for st, (_n, a) in per_stage.items() if st in OPEN), Decimal(0))
    views = [Header(ctx.t("opp.rep.title", start=ctx.fmt_dt(start, date_only=True),
                          end=ctx.fmt_dt(end - timedelta(seconds=1), date_only=True))),
             Fields(items),
             Text(ctx.t("opp.rep.summary", total=total, rate=rate, amount=_money(open_amount)))]
    if owners:
        views += [Header(ctx.t("opp.rep.by_owner")), Fields(tuple(owners))]
    return Reply(views=tuple(views))
