"""/handover FROM TO, /pool [filters], /claim CODE."""

from __future__ import annotations

from handlers.cards.customers import customer_card
from handlers.commands.customers import filter_clauses, parse_filters
from handlers.commands.registry import command
from handlers.context import Ctx
from handlers.errors import InvalidInput, NotFound
from handlers.i18n import enum_label
from handlers.lookup import find_staff, normalize_name
from handlers.paging import page_of, split_page
from handlers.services import pool
from handlers.services import staff as staff_svc
from handlers.services.customer_fields import split_args
from handlers.views import Action, Button, Buttons, ListItem, Reply, Text
from storage.models import Customer
from storage.repos import customers as customer_repo


@command("handover", aliases=("交接",), roles=("manager", "admin"))
def cmd_handover(ctx: Ctx, args: str) -> Reply:
    src, dst = _handover_pair(ctx, split_args(args, {})[0])
    r = staff_svc.handover(ctx, src, dst)
    views = [Text(ctx.t("own.handover_done", src=src.name, dst=dst.name, customers=r.customers,
                        opps=r.opportunities, fus=r.followups))]
    if src.active and staff_svc.may_manage(ctx, src) and src.id != ctx.staff.id:
        views.append(Buttons((Button(ctx.t("own.btn.deactivate", name=src.name),
                                     Action(f"/staff deactivate {src.name}"), "danger"),)))
    return Reply(views=tuple(views))


def _handover_pair(ctx: Ctx, pos: list[str]) -> tuple:
    """FROM and TO; unquoted names with spaces work too (`/handover Kevin Liu 陈静`): the one split
    where both sides name staff members."""
    if len(pos) < 2:
        raise InvalidInput("own.handover_usage")
    if len(pos) == 2:
        return find_staff(ctx, pos[0], active=False), find_staff(ctx, pos[1])
    pairs = []
    for i in range(1, len(pos)):
        try:
            pairs.append((find_staff(ctx, " ".join(pos[:i]), active=False), find_staff(ctx, " ".join(pos[i:]))))
        except NotFound:
            continue
    if len(pairs) != 1:
        raise InvalidInput("own.handover_usage")
    return pairs[0]


@command("pool", aliases=("公海", "客户池"), roles=("rep", "manager", "admin"), reads=True)
def cmd_pool(ctx: Ctx, args: str) -> Reply:
    text, page = split_page(args)
    query, filters = parse_filters(ctx, text)
    filters.pop("owner", None)
    rows = customer_repo.list_pool(ctx.session, where=filter_clauses(ctx, filters), code=query or None,
                                   name_norm=normalize_name(query) if query else None)

    def item(c: Customer) -> ListItem:
        detail = " · ".join([enum_label(ctx.lang, "industry", c.industry),
                             enum_label(ctx.lang, "customer_type", c.type), c.grade])
        if c.pooled_at:
            detail += " · " + ctx.t("own.pooled_since", date=ctx.fmt_dt(c.pooled_at, date_only=True))
        buttons = (Button(ctx.t("own.btn.claim"), Action(f"/claim {c.code}"), "primary"),) \
            if ctx.role in ("rep", "manager") else ()
        return ListItem(f"{c.code} {c.name}", detail, buttons)

    lp = page_of(ctx, rows, title=ctx.t("own.pool_title"), page=page, cmd=f"/pool {text}", item=item,
                 empty_key="own.pool_no_match" if text.strip() else "own.pool_empty")
    return Reply(views=(lp,))


@command("claim", aliases=("领取",), roles=("rep", "manager"))
def cmd_claim(ctx: Ctx, args: str) -> Reply:
    if not args.strip():
        raise InvalidInput("own.claim_usage")
    c = pool.find_pooled(ctx, args)
    pool.claim(ctx, c)
    return Reply(views=(Text(ctx.t("own.claimed", code=c.code, name=c.name)),)) + customer_card(ctx, c)
