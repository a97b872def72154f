"""/opp — sales opportunities.

    /opp add [CUSTOMER [NAME] amount=… close=WHEN competitors=…]    one line, or the dialog
    /opp stage CODE STAGE [amount=… contract=…] [reason=…] NOTE      move to the next stage, won or lost
    /opp list [mine|team|all] [stage:…]                              paged list
    /opp purchase CODE                                               a won one's purchase (once; regrades)
    /opp CODE                                                        the card with the stage history
"""

from __future__ import annotations

import re
from decimal import Decimal

from handlers import inputs
from handlers.cards import opportunities as cards
from handlers.cards.purchases import done_views
from handlers.commands.registry import command
from handlers.context import Ctx
from handlers.dialogs import engine as dialogs
from handlers.dialogs import opp_add
from handlers.errors import InvalidInput, NotFound
from handlers.i18n import enum_label, match_enum, parse_enum
from handlers.lookup import resolve_customer
from handlers.paging import page_of, split_page
from handlers.permissions import customer_filter, team_ids
from handlers.services import opportunities as opps
from handlers.services.customer_fields import parse_amount, parse_close_date, parse_text, split_args
from handlers.services.customers import parse_fields
from handlers.views import Reply, Text
from handlers.words import scope_word
from storage.models import Customer, Opportunity
from storage.repos import customers as customer_repo
from storage.repos import opportunities as opp_repo

ADD_KEYS = {"name": "name", "名称": "name", "amount": "amount", "金额": "amount", "预计金额": "amount",
            "close": "close", "预计成交": "close", "成交日期": "close", "competitors": "competitors",
            "竞争对手": "competitors", "strengths": "strengths", "优势": "strengths", "weaknesses": "weaknesses",
            "劣势": "weaknesses"}
ADD_PARSERS = {"name": parse_text(200), "amount": parse_amount, "close": parse_close_date,
               "competitors": parse_text(500), "strengths": parse_text(2000), "weaknesses": parse_text(2000)}
STAGE_PARSERS = {"actual": parse_amount}
STAGE_KEYS = {"amount": "amount", "金额": "amount", "contract": "contract", "合同": "contract",
              "合同号": "contract", "reason": "reason", "原因": "reason", "note": "note", "备注": "note"}
_SUB = {"add": "add", "new": "add", "新增": "add", "新建": "add", "stage": "stage", "阶段": "stage",
        "list": "list", "列表": "list", "ls": "list", "purchase": "purchase", "购买": "purchase"}


@command("opp", aliases=("opps", "opportunity", "机会", "商机"), roles=("rep", "manager", "admin"),
         reads=lambda args: args.partition(" ")[0].lower() not in _SUB)  # a list or a card
def cmd_opp(ctx: Ctx, args: str) -> Reply:
    head, _, rest = args.strip().partition(" ")
    sub = _SUB.get(head.lower())
    if sub == "add":
        return add(ctx, rest.strip())
    if sub == "stage":
        return stage(ctx, rest.strip())
    if sub == "list":
        return list_opps(ctx, rest.strip())
    if sub == "purchase":
        return purchase(ctx, rest.strip())
    if not head or match_enum("scope", head) or head.lower().startswith(("stage:", "阶段:")) \
            or re.fullmatch(r"p\d+", head):
        return list_opps(ctx, args.strip())
    if re.fullmatch(r"[A-Za-z]{2,6}\d{7}", head):  # a customer's code: that customer's opportunities
        return customer_opps(ctx, head, rest.strip())
    return opp_card(ctx, opps.get_visible(ctx, head))


def customer_opps(ctx: Ctx, code: str, rest: str) -> Reply:
    c = customer_repo.get_by_code(ctx.session, code=inputs.key(code), where=customer_filter(ctx))
    if c is None:
        raise NotFound("opp.not_found", code=code)  # exactly as an opportunity code that does not exist
    _, page = split_page(rest)
    return cards.customer_opps(ctx, c, opp_repo.list_for_customer(ctx.session, customer_id=c.id), page)


def add(ctx: Ctx, args: str) -> Reply:
    """`/opp add CUSTOMER NAME amount=… close=WHEN [competitors=…]`: values run to the next key (close=next
    friday, competitors=SAP, Oracle); the name is the words before the first key."""
    pos, kv = split_args(args, ADD_KEYS, glue=True)
    if not pos:
        return dialogs.start(ctx, "opp_add")
    c = resolve_customer(ctx, pos[0])
    if pos[1:] and "name" not in kv:
        kv["name"] = " ".join(pos[1:])
    values = {"customer": c.code, **parse_fields(ctx, kv, ADD_PARSERS, label_prefix="opp.f.")}
    if all(values.get(k) for k in ("name", "amount", "close")):
        return opp_add.finish_opp(ctx, values)
    if kv:
        values.setdefault("competitors", None)
    return dialogs.start(ctx, "opp_add", prefill=values)


def stage(ctx: Ctx, args: str) -> Reply:
    pos, kv = split_args(args, STAGE_KEYS, glue=True)  # reason=price too high: the whole reason
    if len(pos) < 2:
        raise InvalidInput("opp.err.stage_usage")
    extra = []
    for key in ("amount", "contract"):  # one word each; words after them belong to the note
        if kv.get(key) and len(kv[key].split()) > 1:
            kv[key], rest = kv[key].split(None, 1)
            extra.append(rest)
    o = opps.get_visible(ctx, pos[0])
    to = parse_enum("stage", pos[1], lang=ctx.lang)
    note = kv.get("note") or " ".join(pos[2:] + extra) or None
    # the amount of a stage move is what was signed: errors name the actual amount, not the expected one
    amount = Decimal(parse_fields(ctx, {"actual": kv["amount"]}, STAGE_PARSERS, label_prefix="opp.f.")["actual"]) \
        if kv.get("amount") else None
    opps.change_stage(ctx, o, to, note=note, actual_amount=amount, contract_no=kv.get("contract") or None,
                      lost_reason=kv.get("reason") or None)
    return Reply(views=(Text(ctx.t("opp.stage_done", code=o.code, stage=enum_label(ctx.lang, "stage", to))),)
                 ) + opp_card(ctx, o)


def purchase(ctx: Ctx, args: str) -> Reply:
    """`/opp purchase CODE` (the won card's button): record the purchase the win stands for, once."""
    if not args.split():
        raise InvalidInput("opp.err.purchase_usage")
    o = opps.get_visible(ctx, args.split()[0])
    p, new_grade = opps.record_won_purchase(ctx, o)
    if p is None:
        return Reply(views=(Text(ctx.t("opp.purchase_already", code=o.code)),)) + opp_card(ctx, o)
    c = ctx.session.get(Customer, o.customer_id)
    return Reply(views=tuple(done_views(ctx, c, p, new_grade))) + opp_card(ctx, o)


def list_opps(ctx: Ctx, args: str) -> Reply:
    text, page = split_page(args)
    where = [opps.opp_filter(ctx)]
    by_stage = False  # `stage:open` lists the open ones by stage, then by expected close
    scope = "mine" if ctx.role == "rep" else "team" if ctx.role == "manager" else "all"
    for w in text.split():
        lw = w.lower()
        asked = scope_word(ctx, w, cmd="/opp list")  # team/all: managers and admins only (reps are told)
        if asked:
            scope = "team" if asked == "all" and ctx.role == "manager" else asked  # a manager's all: the team
        elif lw.split(":")[0] in ("stage", "阶段") and ":" in lw:
            v = w.split(":", 1)[1]
            stages = opps.OPEN if v.lower() in ("open", "进行中") else (parse_enum("stage", v, lang=ctx.lang),)
            where.append(Opportunity.stage.in_(stages))
            by_stage = len(stages) > 1
        else:
            raise InvalidInput("opp.err.list_usage", value=w)
    if scope == "mine":
        where.append(opp_repo.owned_by(ctx.staff.id))
    elif scope == "team" and ctx.role == "manager":
        where.append(Opportunity.owner_id.in_(team_ids(ctx)))
    rows = opp_repo.search(ctx.session, where=where, by_stage=by_stage)
    lp = page_of(ctx, rows, title=ctx.t("opp.list_title", scope=ctx.t(f"opp.scope.{scope}")), page=page,
                 cmd=f"/opp list {text}", item=lambda o: cards.opp_item(ctx, o), empty_key="opp.list_empty")
    return Reply(views=(lp,))


def opp_card(ctx: Ctx, o: Opportunity) -> Reply:
    return cards.opp_card(ctx, o, may_edit=opps.may_edit(ctx, o))
