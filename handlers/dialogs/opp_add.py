"""The `opp_add` dialog (`/opp add`, the card's "New opportunity" button): customer, name, expected amount,
expected close date, competitors. `/opp add CODE` starts it with the customer filled in."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from handlers.cards.opportunities import opp_card
from handlers.context import Ctx
from handlers.dialogs.engine import Dialog, Step, register
from handlers.lookup import resolve_customer
from handlers.services.customer_fields import parse_amount, parse_close_date, parse_text
from handlers.services.opportunities import create_opportunity, may_edit
from handlers.views import Reply, Text


def _customer(ctx: Ctx, text: str, values: dict) -> str:
    return resolve_customer(ctx, text).code


def finish_opp(ctx: Ctx, values: dict) -> Reply:
    """Save the opportunity (`/opp add` in one line, or the dialog's last step) and show its card."""
    c = resolve_customer(ctx, values["customer"])
    o = create_opportunity(
        ctx, c, name=values["name"],
        amount=Decimal(values["amount"]) if values.get("amount") else None,
        close=date.fromisoformat(values["close"]) if values.get("close") else None,
        competitors=values.get("competitors"), strengths=values.get("strengths"),
        weaknesses=values.get("weaknesses"))
    return Reply(views=(Text(ctx.t("opp.created", code=o.code, name=o.name)),)) + opp_card(ctx, o, may_edit=may_edit(ctx, o))


OPP_ADD = register(Dialog("opp_add", "opp.dlg.title", (
    Step("customer", "opp.dlg.customer", parse=_customer),
    Step("name", "opp.dlg.name", parse=parse_text(200), max_length=200),
    Step("amount", "opp.dlg.amount", parse=parse_amount, hint_key="opp.dlg.amount_hint"),
    Step("close", "opp.dlg.close", parse=parse_close_date, hint_key="opp.dlg.close_hint"),
    Step("competitors", "opp.dlg.competitors", parse=parse_text(500), optional=True, max_length=500),
), on_done=finish_opp))
