"""/ticket and /tickets — for staff, and (a smaller set) for bound customers."""

from __future__ import annotations

import re

from sqlalchemy import and_, or_, select

import handlers.dialogs.ticket_new  # noqa: F401 - registers the ticket dialogs
from handlers import inputs, paging
from handlers.commands import command
from handlers.context import Ctx
from handlers.dialogs import engine as dialogs
from handlers.errors import Forbidden, InvalidInput, NotFound
from handlers.i18n import ENUMS, enum_label, match_enum, parse_enum
from handlers.lookup import resolve_customer
from handlers.services import ratings, tickets
from handlers.services.ticket_views import card
from handlers.views import ListItem, Reply, Text
from handlers.words import refuse_words_after_customer
from storage.models import Staff, Ticket

SUBVERBS = {
    "new": "new", "新建": "new", "open": "new", "assign": "assign", "分配": "assign", "take": "take",
    "reassign": "reassign", "转派": "reassign",
    "接单": "take", "accept": "accept", "确认处理": "accept", "note": "note", "备注": "note", "reply": "reply",
    "回复": "reply", "resolve": "resolve", "解决": "resolve", "close": "close", "关闭": "close",
    "reopen": "reopen", "重开": "reopen", "rating": "rating", "评分": "rating", "confirm": "confirm",
    "确认": "confirm", "msg": "msg", "补充": "msg",
}
CUSTOMER_SUBVERBS = ("new", "confirm", "reopen", "msg")
_COLON = re.compile(r"[:：]")


def created_reply(ctx: Ctx, t: Ticket) -> Reply:
    key = "tk.created_routed" if tickets.routed(t) else "tk.created_queued"
    return Reply(views=(Text(ctx.t(key, code=t.code)),)) + card(ctx, t, log=False)


def _card(ctx: Ctx, t: Ticket, msg_key: str | None = None, **params: object) -> Reply:
    r = card(ctx, t)
    if msg_key:
        r = Reply(views=(Text(ctx.t(msg_key, code=t.code, **params)),)) + r
    return r


@command("ticket", aliases=("工单", "tk"), audience="both")
def cmd_ticket(ctx: Ctx, args: str) -> Reply:
    word, _, rest = args.strip().partition(" ")
    sub = SUBVERBS.get(word.lower())
    rest = rest.strip()
    if ctx.is_customer:
        if not word:
            return dialogs.start(ctx, "ticket_customer")
        if sub is None and " " not in args.strip():
            return _card(ctx, tickets.get_ticket(ctx, word))
        if sub not in CUSTOMER_SUBVERBS:
            raise InvalidInput("tk.cust_usage")
    if not word:
        return dialogs.start(ctx, "ticket_new")
    if sub is None:
        if " " in args.strip():
            raise InvalidInput("tk.usage")
        return _card(ctx, tickets.get_ticket(ctx, word))
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
        kind = next((k for k in ("ticket_type", "priority") if match_enum(k, words[-1])), None)
        key = {"ticket_type": "type", "priority": "priority"}.get(kind or "")
        if key is None or key in values:
            break
        values[key] = match_enum(kind, words.pop())
    query = " ".join(words)
    if query:
        values["customer"] = _customer_code(ctx, query, head)
    if desc.strip():
        values["description"] = desc.strip()
    if "customer" in values and all(k in values for k in ("type", "priority", "description")):
        from handlers.dialogs.ticket_new import customer_of

        t = tickets.create_ticket(ctx, customer=customer_of(ctx, values),
                                  type_=values["type"], priority=values["priority"],
                                  description=values["description"])
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
        return _card(ctx, t)
    agent = _find_staff(ctx, ref)
    tickets.assign(ctx, t, agent.id)
    return _card(ctx, t, "tk.assigned_ok", who=agent.name)


def _reassign(ctx: Ctx, rest: str) -> Reply:
    code, ref = _code_and_text(rest)
    t = tickets.get_ticket(ctx, code)
    if not ref:
        raise InvalidInput("tk.usage")
    agent = tickets.reassign(ctx, t, _find_staff(ctx, ref).id)
    return _card(ctx, t, "tk.assigned_ok", who=agent.name)


def _find_staff(ctx: Ctx, ref: str) -> Staff:
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
    tickets.assign(ctx, t, ctx.staff.id)
    return _card(ctx, t, "tk.taken_ok")


def _accept(ctx: Ctx, rest: str) -> Reply:
    code, _ = _code_and_text(rest)
    t = tickets.get_ticket(ctx, code)
    tickets.accept(ctx, t)
    return _card(ctx, t, "tk.accepted_ok")


def do_text_op(ctx: Ctx, op: str, code: str, text: str) -> Reply:
    t = tickets.get_ticket(ctx, code)
    if op == "note":
        tickets.add_note(ctx, t, text)
        return _card(ctx, t, "tk.noted_ok")
    if op == "reply":
        n = tickets.reply_to_customer(ctx, t, text)
        return _card(ctx, t, "tk.replied_ok", n=n)
    if op == "resolve":
        tickets.resolve(ctx, t, text)
        bound = bool(tickets.customer_chats(ctx.session, t))
        return _card(ctx, t, "tk.resolved_ok" if bound else "tk.resolved_ok_unbound")
    tickets.reopen(ctx, t, text or None)
    if ctx.is_customer:
        return Reply(views=(Text(ctx.t("tk.cust_reopened", code=t.code)),))
    return _card(ctx, t, "tk.reopened_ok")


def _text_op(op: str, *, text_optional: bool = False):  # noqa: ANN202
    def run(ctx: Ctx, rest: str) -> Reply:
        code, text = _code_and_text(rest)
        if text or text_optional and (ctx.is_customer or not ctx.via_button):
            return do_text_op(ctx, op, code, text)
        t = tickets.get_ticket(ctx, code)  # check before prompting
        if op != "reopen":
            tickets._require_handler(ctx, t)
        return dialogs.start(ctx, f"ticket_{op}", {"code": t.code})

    return run


def _close(ctx: Ctx, rest: str) -> Reply:
    code, _ = _code_and_text(rest)
    t = tickets.get_ticket(ctx, code)
    tickets.close(ctx, t)
    return _card(ctx, t, "tk.closed_ok")


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
    return _card(ctx, t, "rate.recorded", n=t.rating)


SUB_HANDLERS = {
    "new": _new, "assign": _assign, "reassign": _reassign, "take": _take, "accept": _accept, "note": _text_op("note"),
    "reply": _text_op("reply"), "resolve": _text_op("resolve"), "close": _close,
    "reopen": _text_op("reopen", text_optional=True), "rating": _rating, "confirm": _confirm,
    "msg": _msg,
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


def _queue_where(ctx: Ctx, queue: str):  # noqa: ANN202
    now = ctx.now
    if queue == "mine":
        return and_(Ticket.assignee_id == (ctx.staff.id if ctx.staff else -1), Ticket.status != "closed")
    if queue == "unassigned":
        return and_(Ticket.status == "pending", Ticket.assignee_id.is_(None))
    if queue == "open":  # not resolved or closed: for reps, their customers' tickets in progress
        return Ticket.status.in_(tickets.OPEN)
    if queue == "breaching":
        return and_(Ticket.status.in_(tickets.OPEN), or_(
            and_(Ticket.assigned_at.is_(None), Ticket.assign_due_at <= now),
            and_(Ticket.first_contact_at.is_(None), Ticket.contact_due_at <= now),
            Ticket.resolve_due_at <= now))
    return Ticket.id.is_not(None)


@command("tickets", aliases=("工单列表", "queue"), audience="both")
def cmd_tickets(ctx: Ctx, args: str) -> Reply:
    rest, page = paging.split_page(args)
    queue, flt = _filters(ctx, rest)
    if ctx.is_customer:
        queue = "all"
    queue = queue or ("all" if "status" in flt else _default_queue(ctx))
    q = select(Ticket).where(tickets.visible_filter(ctx), _queue_where(ctx, queue))
    for col, v in flt.items():
        q = q.where(getattr(Ticket, col) == v)
    rows = list(ctx.session.scalars(q.order_by(Ticket.id.desc()).limit(500)))
    cmd = " ".join(["/tickets", queue, *(f"{k}:{v}" for k, v in flt.items())])
    lp = paging.page_of(ctx, rows, title=ctx.t(f"tk.queue.{queue}"), page=page, cmd=cmd,
                        item=lambda t: _item(ctx, t), empty_key="tk.queue_empty")
    return Reply(views=(lp,))


def _item(ctx: Ctx, t: Ticket) -> ListItem:
    from handlers.services.sla import clock_lines
    from handlers.views import Action, Button
    from storage.models import Customer

    cust = ctx.session.get(Customer, t.customer_id)
    text = f"{t.code} · {enum_label(ctx.lang, 'status', t.status)} · " \
           f"{enum_label(ctx.lang, 'ticket_type', t.type)} · {enum_label(ctx.lang, 'priority', t.priority)}"
    detail = [f"{cust.name if cust else '—'}: {t.description[:80]}"]
    if ctx.staff is not None:
        detail += [f"{k}: {v}" for k, v in clock_lines(ctx, t) if v.startswith("⏰")]
    return ListItem(text=text, detail="\n".join(detail),
                    buttons=(Button(ctx.t("tk.btn.open"), Action(f"/ticket {t.code}")),))
