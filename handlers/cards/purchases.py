"""Purchase views: what was recorded (and the grade it led to), a customer's purchases with the year's total."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.i18n import enum_label
from handlers.paging import page_of
from handlers.views import ListItem, Reply, Text
from storage.models import Customer, Purchase
from storage.repos import customers as customer_repo

if TYPE_CHECKING:
    from handlers.context import Ctx


def done_views(ctx: Ctx, c: Customer, p: Purchase, new_grade: str | None) -> list:
    """What was recorded, and the grade it led to (also after recording a won opportunity's purchase)."""
    views = [Text(ctx.t("pur.done", code=c.code, name=c.name, amount=f"¥{p.amount:,.2f}", product=p.product,
                        date=ctx.fmt_dt(p.date, date_only=True)))]
    total = customer_repo.yearly_amount(ctx.session, c.id, now=ctx.now)
    if new_grade:
        views.append(Text(ctx.t("pur.regraded", grade=enum_label(ctx.lang, "grade", new_grade),
                                total=f"¥{total:,.0f}")))
    elif c.grade_locked:
        views.append(Text(ctx.t("pur.locked", grade=c.grade), muted=True))
    return views


def purchase_list(ctx: Ctx, c: Customer, page: int) -> Reply:
    """A customer's purchases, newest first, paged, and the total of the grading year."""
    rows = customer_repo.purchases_of(ctx.session, c.id)
    total = customer_repo.yearly_amount(ctx.session, c.id, now=ctx.now)
    lp = page_of(ctx, rows, title=ctx.t("pur.list_title", code=c.code, name=c.name), page=page,
                 cmd=f"/purchase {c.code}", empty_key="pur.empty",
                 item=lambda p: ListItem(f"{ctx.fmt_dt(p.date, date_only=True)} · {p.product}",
                                         f"¥{p.amount:,.2f}"))
    return Reply(views=(lp, Text(ctx.t("pur.total", total=f"¥{total:,.0f}",
                                       grade=enum_label(ctx.lang, "grade", c.grade)), muted=True)))
