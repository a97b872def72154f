"""/purchase CUSTOMER AMOUNT PRODUCT [DATE] — record a purchase (the grade follows the rolling-year total).
`/purchase CUSTOMER` lists the customer's purchases and the total of the last 365 days."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from handlers.commands import command
from handlers.context import Ctx
from handlers.errors import InvalidInput
from handlers.i18n import enum_label
from handlers.lookup import resolve_customer
from handlers.paging import page_of, split_page
from handlers.services import purchases
from handlers.services.customer_fields import (
    _parse_date,
    looks_like_date,
    parse_amount,
    parse_text,
    split_args,
)
from handlers.views import Action, Button, Buttons, ListItem, Reply, Text
from storage.models import Customer, Purchase


@command("purchase", aliases=("purchases", "购买", "采购"), roles=("rep", "manager", "admin"))
def cmd_purchase(ctx: Ctx, args: str) -> Reply:
    text, page = split_page(args)
    pos, kv = split_args(text, {"date": "date", "日期": "date"})
    if not pos:
        raise InvalidInput("pur.usage")
    c = resolve_customer(ctx, pos[0])
    if len(pos) == 1 and not kv:
        return list_purchases(ctx, c, page)
    if len(pos) < 3:
        raise InvalidInput("pur.usage")
    amount = Decimal(parse_amount(ctx, pos[1]))
    words = pos[2:]
    day_text = kv.get("date")
    if day_text is None and len(words) > 1 and looks_like_date(words[-1]):
        day_text = words.pop()
    day = _parse_date(ctx, day_text, past=True) if day_text else None
    if day is not None and day > ctx.now.astimezone(ctx.tz).date():
        raise InvalidInput("pur.err.future", value=day_text)
    product = parse_text(200)(ctx, " ".join(words), {})  # Purchase.product: refused when longer, never cut
    p, new_grade = purchases.record_purchase(ctx, c, amount=amount, product=product, day=day)
    views = done_views(ctx, c, p, new_grade)
    views.append(Buttons((Button(ctx.t("cust.open"), Action(f"/customer {c.code}")),)))
    return Reply(views=tuple(views))


def done_views(ctx: Ctx, c: Customer, p: Purchase, new_grade: str | None) -> list:
    """What was recorded, and the grade it led to (also after recording a won opportunity's purchase)."""
    views = [Text(ctx.t("pur.done", code=c.code, name=c.name, amount=f"¥{p.amount:,.2f}", product=p.product,
                        date=ctx.fmt_dt(p.date, date_only=True)))]
    total = purchases.yearly_amount(ctx.session, c.id, now=ctx.now)
    if new_grade:
        views.append(Text(ctx.t("pur.regraded", grade=enum_label(ctx.lang, "grade", new_grade),
                                total=f"¥{total:,.0f}")))
    elif c.grade_locked:
        views.append(Text(ctx.t("pur.locked", grade=c.grade), muted=True))
    return views


def list_purchases(ctx: Ctx, c: Customer, page: int) -> Reply:
    rows = list(ctx.session.scalars(select(Purchase).where(Purchase.customer_id == c.id)
                                    .order_by(Purchase.date.desc(), Purchase.id.desc())))
    total = purchases.yearly_amount(ctx.session, c.id, now=ctx.now)
    lp = page_of(ctx, rows, title=ctx.t("pur.list_title", code=c.code, name=c.name), page=page,
                 cmd=f"/purchase {c.code}", empty_key="pur.empty",
                 item=lambda p: ListItem(f"{ctx.fmt_dt(p.date, date_only=True)} · {p.product}",
                                         f"¥{p.amount:,.2f}"))
    return Reply(views=(lp, Text(ctx.t("pur.total", total=f"¥{total:,.0f}",
                                       grade=enum_label(ctx.lang, "grade", c.grade)), muted=True)))
