"""/purchase CUSTOMER AMOUNT PRODUCT [DATE] — record a purchase (the grade follows the rolling-year total).
`/purchase CUSTOMER` lists the customer's purchases and the total of the last 365 days."""

from __future__ import annotations

from decimal import Decimal

from handlers.cards import purchases as cards
from handlers.commands.registry import command
from handlers.context import Ctx
from handlers.errors import InvalidInput
from handlers.lookup import resolve_customer
from handlers.paging import split_page
from handlers.services import purchases
from handlers.services.customer_fields import (
    looks_like_date,
    parse_amount,
    parse_date,
    parse_text,
    split_args,
)
from handlers.views import Action, Button, Buttons, Reply


@command("purchase", aliases=("purchases", "购买", "采购"), roles=("rep", "manager", "admin"))
def cmd_purchase(ctx: Ctx, args: str) -> Reply:
    text, page = split_page(args)
    pos, kv = split_args(text, {"date": "date", "日期": "date"})
    if not pos:
        raise InvalidInput("pur.usage")
    c = resolve_customer(ctx, pos[0])
    if len(pos) == 1 and not kv:
        return cards.purchase_list(ctx, c, page)
    if len(pos) < 3:
        raise InvalidInput("pur.usage")
    amount = Decimal(parse_amount(ctx, pos[1]))
    words = pos[2:]
    day_text = kv.get("date")
    if day_text is None and len(words) > 1 and looks_like_date(words[-1]):
        day_text = words.pop()
    day = parse_date(ctx, day_text, past=True) if day_text else None
    if day is not None and day > ctx.now.astimezone(ctx.tz).date():
        raise InvalidInput("pur.err.future", value=day_text)
    product = parse_text(200)(ctx, " ".join(words), {})  # Purchase.product: refused when longer, never cut
    p, new_grade = purchases.record_purchase(ctx, c, amount=amount, product=product, day=day)
    views = cards.done_views(ctx, c, p, new_grade)
    views.append(Buttons((Button(ctx.t("cust.open"), Action(f"/customer {c.code}")),)))
    return Reply(views=tuple(views))
