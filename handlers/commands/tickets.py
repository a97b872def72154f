"""/ticket and /tickets — for staff, and (a smaller set) for bound customers; and the service desk's kinds of
`/report`: `sla` (breaches) and `csat` (ratings)."""

from __future__ import annotations

import re

from sqlalchemy import select

from handlers import inputs, paging
from handlers.cards.service import csat_report, sla_report
from handlers.cards.tickets import card_with, list_item
from handlers.commands.registry import command
from handlers.context import Ctx
from handlers.dialogs import engine as dialogs
from handlers.dialogs.ticket_new import created_reply, customer_of, do_text_op
from handlers.errors import Forbidden, InvalidInput, NotFound
from handlers.i18n import ENUMS, match_enum, parse_enum
from handlers.lookup import resolve_customer
from handlers.reports import parse_period, report
from handlers.services import complaints, ratings, sla, ticket_assign, tickets
from handlers.spans import trend_weeks, week_span
from handlers.views import Reply, Text
from handlers.words import refuse_words_after_customer
from storage.models import Staff, Ticket
from storage.repos import tickets as repo

SUBVERBS = {
    "new": "new", "新建": "new", "open": "new", "assign": "assign", "分配": "assign", "take": "take",
    "reassign": "reassign", "转派": "reassign",
    "接单": "take", "accept": "accept", "确认处理": "accept", "note": "note", "备注": "note", "reply": "reply",
    "回复": "reply", "resolve": "resolve", "解决": "resolve", "close": "close", "关闭": "close",
    "reopen": "reopen", "重开": "reopen", "rating": "rating", "评分": "rating", "confirm": "confirm",
    "确认": "confirm", "msg": "msg", "补充": "msg", "classify": "classify", "分类": "classify", "归类": "classify",
}
CUSTOMER_SUBVERBS = ("new", "confirm", "reopen", "msg")
_COLON = re.compile(r"[:：]")


@command("ticket", aliases=("工单", "tk"), audience="both",  # a ticket's card only reads
         reads=lambda args: bool(args) and " " not in args and args.lower() not in SUBVERBS)
def cmd_ticket(ctx: Ctx, args: str) -> Reply:
    word, _, rest = args.strip().partition(" ")
    sub = SUBVERBS.get(word.lower())
    rest = rest.strip()
    if ctx.is_customer:
        if not word:
            return dialogs.start(ctx, "ticket_customer")
        if sub is None and " " not in args.strip():
            return card_with(ctx, tickets.get_ticket(ctx, word))
        if sub not in CUSTOMER_SUBVERBS:
            raise InvalidInput("tk.cust_usage")
    if not word:
        return dialogs.start(ctx, "ticket_new")
    if sub is None:
        if " " in args.strip():
            raise InvalidInput("tk.usage")
        return card_with(ctx, tickets.get_ticket(ctx, word))
    return SUB_HANDLERS[sub](ctx, rest)


# ---------------------------------------------------------------- /ticket new


def _new(ctx: Ctx, rest: str) -> Reply:
    if ctx.is_customer:
        return dialogs.start(ctx, "ticket_customer", _prefill_desc(rest))
    if not rest:
        return dialogs.start(ctx, "ticket_new")
    head, colon, desc = rest.partition(":") if ":" in rest else rest.partition("：")
    words = head.split()
    values: dict = {}
    while words:
        kind = next((k for k in ("ticket_type", "priority", "emotion") if match_enum(k, words[-1])), None)
        key = {"ticket_type": "type", "priority": "priority", "emotion": "emotion"}.get(kind or "")
        if key is None or key in values:
            break
        values[key] = match_enum(kind, words.pop())
    query = " ".join(words)
    if query:
        values["customer"] = _customer_code(ctx, query, head)
    if desc.strip():
        values["description"] = desc.strip()
    if "customer" in values and all(k in values for k in ("type", "priority", "description")):
        t = tickets.create_ticket(ctx, customer=customer_of(ctx, values),
                                  type_=values["type"], priority=values["priority"],
                                  description=values["description"])
        if values.get("emotion"):  # `/ticket new 云栖 投诉 高 激动: …`
            complaints.classify(ctx, t, emotion=values["emotion"], opening=True)
        return created_reply(ctx, t)
    return dialogs.start(ctx, "ticket_new", values)


def _customer_code(ctx: Ctx, query: str, head: str) -> str:
    """The customer of `/ticket new CUSTOMER TYPE PRIORITY`; when no customer has that name but its first words
    do, the words after them are what is wrong (`合力环保 complain hgh` → did you mean complaint, high?)."""
    try:
        return resolve_customer(ctx, query).code
    except NotFound:
        refuse_words_after_customer(ctx, head, ("ticket_type", "priority"), key="tk.unknown_words")
        raise


def _prefill_desc(text: str) -> dict:
    return {"description": text.strip()} if text.strip() else {}


# ---------------------------------------------------------------- workflow verbs


def _code_and_text(rest: str) -> tuple[str, str]:
    code, _, text = rest.strip().partition(" ")
    if not code:
        raise InvalidInput("tk.need_code")
    return code, text.strip()


def _assign(ctx: Ctx, rest: str) -> Reply:
    code, ref = _code_and_text(rest)
    t = tickets.get_ticket(ctx, code)
    if ctx.staff is None or ctx.staff.role not in tickets.LEADS:
        raise Forbidden("tk.assign_forbidden")
    if not ref:
        return card_with(ctx, t)
    agent = _agent_by_ref(ctx, ref)
    ticket_assign.assign(ctx, t, agent.id)
    return card_with(ctx, t, "tk.assigned_ok", who=agent.name)


def _reassign(ctx: Ctx, rest: str) -> Reply:
    code, ref = _code_and_text(rest)
    t = tickets.get_ticket(ctx, code)
    if not ref:
        raise InvalidInput("tk.usage")
    agent = ticket_assign.reassign(ctx, t, _agent_by_ref(ctx, ref).id)
    return card_with(ctx, t, "tk.assigned_ok", who=agent.name)


def _agent_by_ref(ctx: Ctx, ref: str) -> Staff:
    """`/ticket assign|reassign CODE REF`: a staff id or an exact name (no prefix guessing when assigning)."""
    ref = ref.strip().lstrip("@")
    if inputs.is_id(ref):  # a staff id; one out of range is simply nobody
        sid = inputs.parse_id(ref)
        s = ctx.session.get(Staff, sid) if sid is not None else None
    else:
        s = ctx.session.scalar(select(Staff).where(Staff.name == ref))
    if s is None:
        raise InvalidInput("tk.bad_assignee", ref=ref)
    return s


def _take(ctx: Ctx, rest: str) -> Reply:
    code, _ = _code_and_text(rest)
    t = tickets.get_ticket(ctx, code)
    if ctx.staff is None or ctx.staff.role not in tickets.LEADS:
        raise Forbidden("tk.assign_forbidden")
    ticket_assign.assign(ctx, t, ctx.staff.id)
    return card_with(ctx, t, "tk.taken_ok")


def _accept(ctx: Ctx, rest: str) -> Reply:
    code, _ = _code_and_text(rest)
    t = tickets.get_ticket(ctx, code)
    tickets.accept(ctx, t)
    return card_with(ctx, t, "tk.accepted_ok")


def _text_op(op: str, *, text_optional: bool = False):  # noqa: ANN202
    def run(ctx: Ctx, rest: str) -> Reply:
        code, text = _code_and_text(rest)
        if text or text_optional and (ctx.is_customer or not ctx.via_button):
            return do_text_op(ctx, op, code, text)
        t = tickets.get_ticket(ctx, code)  # check before prompting
        if op != "reopen":
            tickets.require_handler(ctx, t)
        return dialogs.start(ctx, f"ticket_{op}", {"code": t.code})

    return run


def _close(ctx: Ctx, rest: str) -> Reply:
    code, _ = _code_and_text(rest)
    t = tickets.get_ticket(ctx, code)
    tickets.close(ctx, t)
    return card_with(ctx, t, "tk.closed_ok")


def _confirm(ctx: Ctx, rest: str) -> Reply:
    code, _ = _code_and_text(rest)
    t = tickets.get_ticket(ctx, code)
    tickets.confirm(ctx, t)
    # the rating request follows as its own message (close() queues it): no second set of rating buttons here
    return Reply(views=(Text(ctx.t("tk.cust_confirmed", code=t.code)),))


def _msg(ctx: Ctx, rest: str) -> Reply:
    code, text = _code_and_text(rest)
    t = tickets.get_ticket(ctx, code)
    if not ctx.is_customer:
        raise InvalidInput("tk.usage")
    tickets.customer_says(ctx, t, text)
    return Reply(views=(Text(ctx.t("tk.cust_msg_added", code=t.code)),))


def _rating(ctx: Ctx, rest: str) -> Reply:
    code, text = _code_and_text(rest)
    n_text, _, comment = text.partition(" ")
    t = tickets.get_ticket(ctx, code)
    ratings.record_phone_rating(ctx, t, ratings.parse_stars(n_text), comment.strip() or None)
    return card_with(ctx, t, "rate.recorded", n=t.rating)


def _classify(ctx: Ctx, rest: str) -> Reply:
    """`/ticket classify CODE [激动] [产品质量]`: a complaint's emotion and cause (either language); without
    them, a dialog offers both lists."""
    words = rest.split()
    if not words:
        raise InvalidInput("cmp.usage")
    t = tickets.get_ticket(ctx, words[0])
    if len(words) == 1:
        if t.type != "complaint":
            raise InvalidInput("cmp.err.not_complaint", code=t.code)
        tickets.require_handler(ctx, t)
        return dialogs.start(ctx, "ticket_classify", {"code": t.code})
    changed = complaints.classify(ctx, t, **complaints.parse_details(words[1:]))
    return card_with(ctx, t, "cmp.classified" if changed else "cmp.unchanged")


SUB_HANDLERS = {
    "new": _new, "assign": _assign, "reassign": _reassign, "take": _take, "accept": _accept, "note": _text_op("note"),
    "reply": _text_op("reply"), "resolve": _text_op("resolve"), "close": _close,
    "reopen": _text_op("reopen", text_optional=True), "rating": _rating, "confirm": _confirm,
    "msg": _msg, "classify": _classify,
}


# ---------------------------------------------------------------- /tickets

QUEUES = ENUMS["queue"]  # the words of each queue and status, in both languages: handlers/locales/*/core.json
_FILTER_KEYS = {"type": "type", "类型": "type", "priority": "priority", "prio": "priority", "优先级": "priority",
                "status": "status", "状态": "status"}
_FILTER_KINDS = {"type": "ticket_type", "priority": "priority", "status": "status"}


def _filters(ctx: Ctx, args: str) -> tuple[str | None, dict[str, str]]:
    """`未分配 type:投诉 status:处理中`: a queue word (or a bare status word) and `key:value` filters."""
    queue, flt = None, {}
    for w in args.split():
        k, sep, v = w.replace("：", ":").partition(":")
        key = _FILTER_KEYS.get(k.lower()) if sep else None
        if key:
            flt[key] = parse_enum(_FILTER_KINDS[key], v, lang=ctx.lang)
        elif match_enum("queue", w):
            queue = match_enum("queue", w)
        elif match_enum("status", w):
            flt["status"] = match_enum("status", w)
        else:
            raise InvalidInput("tk.list_usage")
    return queue, flt


def _default_queue(ctx: Ctx) -> str:
    return {"agent": "mine", "supervisor": "unassigned", "admin": "unassigned"}.get(ctx.role or "", "all")


@command("tickets", aliases=("工单列表", "queue"), audience="both", reads=True)
def cmd_tickets(ctx: Ctx, args: str) -> Reply:
    rest, page = paging.split_page(args)
    queue, flt = _filters(ctx, rest)
    if ctx.is_customer:
        queue = "all"
    queue = queue or ("all" if "status" in flt else _default_queue(ctx))
    where = [tickets.visible_filter(ctx),
             repo.queue_clause(queue, staff_id=ctx.staff.id if ctx.staff else None, now=ctx.now)]
    rows = repo.list_where(ctx.session, where=where + [getattr(Ticket, col) == v for col, v in flt.items()])
    cmd = " ".join(["/tickets", queue, *(f"{k}:{v}" for k, v in flt.items())])
    lp = paging.page_of(ctx, rows, title=ctx.t(f"tk.queue.{queue}"), page=page, cmd=cmd,
                        item=lambda t: list_item(ctx, t), empty_key="tk.queue_empty")
    return Reply(views=(lp,))


# ---------------------------------------------------------------- /report sla, /report csat


@report("csat", roles=("admin", "supervisor", "manager"), aliases=("ratings", "满意度"))
def report_csat(ctx: Ctx, args: str) -> Reply:
    start, end = parse_period(ctx, args)
    weeks = trend_weeks(ctx, start, end)
    t0, t1 = week_span(ctx, weeks)
    return csat_report(ctx, ratings.closed_between(ctx, start=start, end=end), start=start, end=end,
                       weeks=weeks, trend=ratings.closed_between(ctx, start=t0, end=t1))


@report("sla", roles=("admin", "supervisor", "manager", "agent"))
def report_sla(ctx: Ctx, args: str) -> Reply:
    """The period's breaches and, when the period reaches now, every breach still open (however long ago it
    fell due), those first: the tickets `/tickets breaching` lists are all here, with their count."""
    start, end = parse_period(ctx, args)
    weeks = trend_weeks(ctx, start, end)
    t0, t1 = week_span(ctx, weeks)
    return sla_report(ctx, sla.breaches_for_report(ctx, start=start, end=end), start=start, end=end,
                      weeks=weeks, trend=sla.breaches_between(ctx, start=t0, end=t1))
