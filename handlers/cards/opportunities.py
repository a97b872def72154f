"""Opportunity views: a list row and the card with its stage history and next-step buttons."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from handlers.i18n import enum_label
from handlers.paging import page_of
from handlers.views import Action, Button, Buttons, Fields, Header, ListItem, ListPage, Reply, Text
from storage.models import Customer, Opportunity, OpportunityStage
from storage.repos import opportunities as opp_repo
from storage.repos import staff as staff_repo

if TYPE_CHECKING:
    from handlers.context import Ctx

OPEN = opp_repo.OPEN_STAGES


def money(v: Decimal | None) -> str:
    return f"¥{v:,.2f}" if v is not None else "—"


def opp_item(ctx: Ctx, o: Opportunity) -> ListItem:
    value = opp_repo.amount_of(o)  # a won one shows what was signed
    amount = f"¥{value:,.0f}" if value is not None else "—"
    close = o.expected_close_date.isoformat() if o.expected_close_date else "—"
    return ListItem(f"{o.code} {o.name}",
                    f"{enum_label(ctx.lang, 'stage', o.stage)} · {amount} · {ctx.t('opp.f.close')}: {close}",
                    (Button(ctx.t("opp.open"), Action(f"/opp {o.code}")),))


def _history_item(ctx: Ctx, h: OpportunityStage) -> ListItem:
    move = enum_label(ctx.lang, "stage", h.to_stage)
    if h.from_stage:
        move = f"{enum_label(ctx.lang, 'stage', h.from_stage)} → {move}"
    who = staff_repo.name_of(ctx.session, h.staff_id) or ""
    return ListItem(f"{ctx.fmt_dt(h.at)} · {move} · {who}", h.note or "")


def _won_buttons(ctx: Ctx, o: Opportunity, c: Customer) -> list[Button]:
    """After a win, until each is done: make the customer a deal customer (an ordinary edit, with its approval
    rules) and record the purchase (which regrades the customer)."""
    out = []
    if c.type != "deal":
        out.append(Button(ctx.t("opp.btn.mark_deal"), Action(f"/customer edit {c.code} type=deal"), "primary"))
    if not opp_repo.won_purchase_recorded(ctx.session, opportunity_id=o.id):
        out.append(Button(ctx.t("opp.btn.purchase", amount=money(o.actual_amount)),
                          Action(f"/opp purchase {o.code}")))
    return out


def opp_card(ctx: Ctx, o: Opportunity, *, may_edit: bool) -> Reply:
    """The card; `may_edit`: the actor may change the customer's sales data (offers the after-win steps)."""
    c = ctx.session.get(Customer, o.customer_id)
    items = [(ctx.t("opp.f.customer"), f"{c.code} {c.name}"),
             (ctx.t("opp.f.stage"), enum_label(ctx.lang, "stage", o.stage))]
    if o.actual_amount is not None:  # what was signed comes first
        items += [(ctx.t("opp.f.actual"), money(o.actual_amount)), (ctx.t("opp.f.contract"), o.contract_no or "—")]
    items += [(ctx.t("opp.f.amount"), money(o.expected_amount)),
              (ctx.t("opp.f.close"), o.expected_close_date.isoformat() if o.expected_close_date else "—"),
              (ctx.t("opp.f.owner"), staff_repo.name_of(ctx.session, o.owner_id) or "—")]
    extra = [("competitors", o.competitors), ("strengths", o.strengths), ("weaknesses", o.weaknesses),
             ("reason", o.lost_reason)]
    items += [(ctx.t(f"opp.f.{k}"), v) for k, v in extra if v]
    hist = opp_repo.stage_history(ctx.session, opportunity_id=o.id)
    views: list = [Header(f"{o.code} {o.name}"), Fields(tuple(items)),
                   ListPage(ctx.t("opp.history"), tuple(_history_item(ctx, h) for h in hist), total=len(hist))]
    buttons = []
    nxt = opp_repo.next_stage(o.stage)
    if nxt:
        buttons.append(Button(ctx.t("opp.btn.next", stage=enum_label(ctx.lang, "stage", nxt)),
                              Action(f"/opp stage {o.code} {nxt}"), "primary"))
    if o.stage in OPEN:
        views.append(Text(ctx.t("opp.hint_close", code=o.code), muted=True))
    won = _won_buttons(ctx, o, c) if o.stage == "won" and may_edit else []
    if won:
        views.append(Text(ctx.t("opp.won_next"), muted=True))
        buttons += won
    buttons.append(Button(ctx.t("opp.btn.customer"), Action(f"/customer {c.code}")))
    views.append(Buttons(tuple(buttons)))
    return Reply(views=tuple(views))


def customer_opps(ctx: Ctx, c: Customer, rows: list[Opportunity], page: int) -> Reply:
    """A customer's opportunities, paged, with "New opportunity"."""
    lp = page_of(ctx, rows, title=ctx.t("opp.customer_title", code=c.code, name=c.name), page=page,
                 cmd=f"/opp {c.code}", item=lambda o: opp_item(ctx, o), empty_key="opp.list_empty")
    return Reply(views=(lp, Buttons((Button(ctx.t("opp.btn.new"), Action(f"/opp add {c.code}"), "primary"),))))
