"""/log — log a call, visit or message in one line, or through the `log_call` dialog.

    /log CUSTOMER [METHOD] [FEEDBACK]: CONTENT [next: WHEN] [result: RESULT] [date: WHEN] [by: NAME]
    /log 云栖 电话 积极: 客户预算60万,需要财务模块 下次: 下周五下午3点
    /log 云栖 拜访: 演示了仓库模块 时间: 昨天下午4点 跟进人: 刘洋
    /log undo ID · /log edit ID [field=value …] · /log next ID [WHEN|none]
"""

from __future__ import annotations

import re
from datetime import datetime

from handlers import inputs
from handlers.commands import command
from handlers.context import Ctx
from handlers.dates import parse_when
from handlers.dates_past import parse_past
from handlers.dialogs import engine as dialogs
from handlers.dialogs import log_call
from handlers.errors import InvalidInput, NotFound
from handlers.i18n import ENUMS, LANGS, catalog, enum_label, match_enum, parse_enum
from handlers.lookup import Ambiguous, resolve_customer
from handlers.services import followups as svc
from handlers.views import Action, Button, Buttons, Error, Fields, Header, Reply, Text
from handlers.words import refuse_words_after_customer
from storage.models import Customer, FollowUp, Staff

SALES_ROLES = ("rep", "manager", "admin")
# the keywords after the content, each `WORD:` (or `WORD：`); longest first, so `下次跟进时间:` is `next`
_KEYWORDS = {"next follow-up": "next", "next followup": "next", "next": "next", "result": "result",
             "date": "date", "by": "by", "下次跟进时间": "next", "下次跟进": "next", "下次": "next", "结果": "result",
             "跟进日期": "date", "跟进时间": "date", "日期": "date", "时间": "date", "跟进人": "by"}
_KEYWORD = re.compile(r"(?i)(?:\b(next\s+follow-?up|next|result|date|by)|(下次跟进时间|下次跟进|下次|结果|跟进日期|"
                      r"跟进时间|日期|时间|跟进人))\s*[::]")
_HEAD_COLON = re.compile(r"[::]")


def when(ctx: Ctx, text: str) -> datetime:
    """WHEN typed by the actor, in their zone, with their reminder time for dates without a time."""
    return parse_when(text, now=ctx.now, tz=ctx.tz, lang=ctx.lang, reminder=svc.reminder_time(ctx))


# ---------------------------------------------------------------- parsing the one line

def enum_words(kind: str) -> list[str]:
    """Every label and alias of an enum (methods: those one logs), in both languages."""
    words: list[str] = []
    for lang in LANGS:
        cat = catalog(lang)
        for v in svc.SALES_METHODS if kind == "method" else ENUMS[kind]:
            words += [cat.get(f"enum.{kind}.{v}", ""), *cat.get(f"alias.{kind}.{v}", "").split(",")]
    return [w.strip() for w in words if w.strip()]


def _peel(word: str) -> list[str]:
    """`云栖电话积极` → [`云栖`, `电话`, `积极`]: Chinese method/feedback labels typed without spaces."""
    out: list[str] = []
    labels = sorted((w for kind in ("method", "feedback") for w in enum_words(kind) if not w.isascii()),
                    key=len, reverse=True)
    while True:
        tail = next((w for w in labels if word.endswith(w) and len(word) > len(w)), None)
        if tail is None or len(out) == 2:
            return [word, *out]
        out.insert(0, tail)
        word = word[: -len(tail)]


def split_head(head: str) -> tuple[str, str | None, str | None]:
    """`云栖 电话 积极` → (customer query, method, feedback): method and feedback words are taken from the end."""
    words = _peeled(head).split()
    method = feedback = None
    while len(words) > 1:
        w = words[-1]
        if feedback is None and match_enum("feedback", w):
            feedback = match_enum("feedback", w)
        elif method is None and svc.match_method(w):
            method = svc.match_method(w)
        else:
            break
        words.pop()
    return " ".join(words), method, feedback


def split_body(body: str) -> tuple[str, dict[str, str]]:
    """`content next: WHEN result: R date: WHEN by: NAME` → (content, {"next": …, "result": …, "date": …,
    "by": …})."""
    parts = _KEYWORD.split(body)
    content, extras = parts[0], {}
    for i in range(1, len(parts) - 2, 3):
        word, value = " ".join((parts[i] or parts[i + 1]).lower().split()), parts[i + 2]
        extras[_KEYWORDS[word.replace("followup", "follow-up")]] = value.strip()
    return content.strip(), extras


# ---------------------------------------------------------------- the confirmation

def confirmation(ctx: Ctx, fu: FollowUp, customer: Customer) -> Reply:
    items = [(ctx.t("fu.f.customer"), f"{customer.code} {customer.name}"),
             (ctx.t("fu.f.method"), enum_label(ctx.lang, "method", fu.method)),
             (ctx.t("fu.f.feedback"), enum_label(ctx.lang, "feedback", fu.feedback)),
             (ctx.t("fu.f.content"), fu.content)]
    if fu.date != fu.created_at:  # `date:` — a call made earlier
        items.append((ctx.t("fu.f.date"), fmt_when(ctx, fu.date)))
    if fu.staff_id != ctx.staff.id:  # `by:` — logged for someone else
        author = ctx.session.get(Staff, fu.staff_id)
        items.append((ctx.t("fu.f.staff"), author.name if author else "?"))
    if fu.result:
        items.append((ctx.t("fu.f.result"), enum_label(ctx.lang, "result", fu.result)))
    items.append((ctx.t("fu.f.next"), fmt_when(ctx, fu.next_followup_at) if fu.next_followup_at
                  else ctx.t("fu.none")))
    views: list = [Header(ctx.t("fu.logged")), Fields(tuple(items)),
                   Buttons((Button(ctx.t("fu.btn.undo"), Action(f"/log undo {fu.id}"), style="danger"),
                            Button(ctx.t("fu.btn.edit"), Action(f"/log edit {fu.id}"))))]
    if fu.next_followup_at is None:
        views += proposal(ctx, fu, customer)
    if fu.feedback == "positive" and customer.type == "potential":
        views += [Text(ctx.t("fu.upgrade_hint")),
                  Buttons((Button(ctx.t("fu.btn.upgrade"), Action(f"/customer edit {customer.code} type=intent"),
                                  style="primary"),))]
    return Reply(views=tuple(views))


def fmt_when(ctx: Ctx, dt: datetime | None) -> str:
    if dt is None:
        return "—"
    return f"{ctx.fmt_dt(dt)} ({ctx.t(f'fu.wd.{ctx.local(dt).weekday()}')})"


def proposal(ctx: Ctx, fu: FollowUp, customer: Customer) -> list:
    at = svc.cadence_proposal(ctx, customer)
    day = ctx.local(at).strftime("%Y-%m-%d")
    return [Text(ctx.t("fu.propose", when=fmt_when(ctx, at), grade=customer.grade,
                       days=ctx.settings.cadence_days(customer.grade))),
            Buttons((Button(ctx.t("fu.btn.accept"), Action(f"/log next {fu.id} {day}"), style="primary"),
                     Button(ctx.t("fu.btn.change"), Action(f"/log next {fu.id}")),
                     Button(ctx.t("fu.btn.no_next"), Action(f"/log next {fu.id} none"))))]


# ---------------------------------------------------------------- the verb

@command("log", aliases=("跟进", "记录"), roles=SALES_ROLES)
def cmd_log(ctx: Ctx, args: str) -> Reply:
    args = args.strip()
    first, _, rest = args.partition(" ")
    sub = {"undo": log_undo, "撤销": log_undo, "edit": log_edit, "修改": log_edit, "next": log_next}.get(
        first.lower())
    if sub is not None and (not rest or inputs.is_id(rest.split()[0])):
        return sub(ctx, rest.strip())
    if not args:
        return dialogs.start(ctx, log_call.NAME)
    m = _HEAD_COLON.search(args)
    head, body = (args[: m.start()], args[m.end():]) if m else (args, "")
    query, method, feedback = split_head(head.strip())
    try:
        customer = resolve_customer(ctx, query)
    except NotFound:
        if m is None and len(query.split()) > 2:  # "/log Acme phone called them" — the colon is missing
            fixed = _colon_fix(ctx, query)
            if fixed:
                return Reply(views=(Error(ctx.t("fu.colon_fix", cmd=fixed)),
                                    Buttons((Button(ctx.t("fu.btn.log_it"), Action(fixed), style="primary"),))))
            raise InvalidInput("fu.need_colon", query=query, usage=ctx.t("usage.log")) from None
        refuse_words_after_customer(ctx, _peeled(head), ("method", "feedback"), key="fu.unknown_words",
                                    values={"method": svc.SALES_METHODS})
        raise
    svc.check_can_log(ctx, customer)
    content, extras = split_body(body)
    if not content:
        prefill = {"customer": customer.code}
        if method:
            prefill["method"] = method
        if feedback:
            prefill["feedback"] = feedback
        return dialogs.start(ctx, log_call.NAME, prefill)
    if len(content) > ctx.settings.max_text:
        raise InvalidInput("fu.too_long", max=ctx.settings.max_text, length=len(content))
    next_at = when(ctx, extras["next"]) if extras.get("next") else None
    result = parse_enum("result", extras["result"], lang=ctx.lang) if extras.get("result") else None
    made = parse_past(extras["date"], now=ctx.now, tz=ctx.tz, lang=ctx.lang) if extras.get("date") else None
    author = svc.find_author(ctx, extras["by"]) if "by" in extras else None
    fu = svc.log_followup(ctx, customer=customer, method=method or "phone", content=content, feedback=feedback,
                          next_at=next_at, result=result, date=made, author=author)
    return confirmation(ctx, fu, customer)


def _colon_fix(ctx: Ctx, query: str) -> str | None:
    """`ABC2026001 phone positive budget 600k` → `/log ABC2026001 phone positive: budget 600k` when the first
    word is a customer the actor sees."""
    first, _, rest = query.partition(" ")
    try:
        customer = resolve_customer(ctx, first)
    except (NotFound, Ambiguous):
        return None
    words, head = rest.split(), []
    while words and len(head) < 2 and (svc.match_method(words[0]) or match_enum("feedback", words[0])):
        head.append(words.pop(0))
    return f"/log {' '.join([customer.code, *head])}: {' '.join(words)}" if words else None


def _peeled(head: str) -> str:
    """The head with glued Chinese words apart (`云栖电话积极` → `云栖 电话 积极`), as `split_head` reads it."""
    words = head.split()
    if words and not words[-1].isascii():
        words = words[:-1] + _peel(words[-1])
    return " ".join(words)


def _id_and_rest(args: str, usage: str) -> tuple[str, str]:
    fid, _, rest = args.partition(" ")
    if not inputs.is_id(fid):
        raise InvalidInput("fu.usage", usage=usage)
    return fid, rest.strip()


def log_undo(ctx: Ctx, args: str) -> Reply:
    fid, _ = _id_and_rest(args, "/log undo ID")
    fu, customer = svc.undo_followup(ctx, fid)
    return Reply(views=(Text(ctx.t("fu.undone", code=customer.code, id=fu.id)),))


def log_edit(ctx: Ctx, args: str) -> Reply:
    fid, rest = _id_and_rest(args, "/log edit ID field=value")
    if not rest:
        fu, customer = svc.get_followup(ctx, fid)
        return Reply(views=(Header(ctx.t("fu.edit_title", id=fu.id)), *confirmation(ctx, fu, customer).views[1:2],
                            Text(ctx.t("fu.edit_hint", id=fu.id), muted=True),
                            Buttons((Button(ctx.t("fu.btn.change_next"), Action(f"/log next {fu.id}")),))))
    changes = parse_changes(ctx, rest)
    fu, customer, changed = svc.edit_followup(ctx, fid, changes)
    names = ", ".join(ctx.t(f"fu.f.{name}") for name in changed)
    head = Text(ctx.t("fu.edited", fields=names) if changed else ctx.t("fu.edit_nothing"))
    return Reply(views=(head, *confirmation(ctx, fu, customer).views[1:3]))


_CHANGE = re.compile(r"(?i)(?:^|\s)(method|feedback|content|next|result)\s*=")


def parse_changes(ctx: Ctx, text: str) -> dict:
    """`next=next friday 3pm content="new text"` → parsed values; a value runs up to the next `field=`."""
    marks = list(_CHANGE.finditer(text))
    if not marks or text[: marks[0].start()].strip():
        raise InvalidInput("fu.usage", usage="/log edit ID field=value")
    out: dict = {}
    for i, m in enumerate(marks):
        key = m.group(1).lower()
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        value = text[m.end():end].strip().strip("\"'“”")
        if key == "next":
            out[key] = None if value.lower() in ("", "none", "无") else when(ctx, value)
        elif key in ("feedback", "result") and value.lower() in ("", "none", "无"):
            out[key] = None
        elif key in ("method", "feedback", "result"):
            out[key] = parse_enum(key, value, lang=ctx.lang)
        else:
            out[key] = value
    return out


def log_next(ctx: Ctx, args: str) -> Reply:
    fid, rest = _id_and_rest(args, "/log next ID WHEN")
    if not rest:
        fu, customer = svc.get_followup(ctx, fid)
        if ctx.surface == "form":  # a form cannot carry the follow-up's id: ask for the typed command
            return Reply(views=(Text(ctx.t("fu.type_next", id=fu.id)),))
        return dialogs.start(ctx, log_call.NEXT_NAME, {"followup": fu.id})
    next_at = None if rest.lower() in ("none", "no", "无", "不需要") else when(ctx, rest)
    fu, customer, changed = svc.set_next(ctx, fid, next_at)
    if next_at is None:
        return Reply(views=(Text(ctx.t("fu.no_next_set", code=customer.code)),))
    key = "fu.next_set" if changed else "fu.next_already"
    return Reply(views=(Text(ctx.t(key, code=customer.code, when=fmt_when(ctx, next_at))),))
