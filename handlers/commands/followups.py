"""/log — log a call, visit or message in one line, or through the `log_call` dialog.

    /log CUSTOMER [METHOD] [FEEDBACK]: CONTENT [next: WHEN] [result: RESULT] [date: WHEN] [by: NAME]
    /log 云栖 电话 积极: 客户预算60万,需要财务模块 下次: 下周五下午3点
    /log 云栖 拜访: 演示了仓库模块 时间: 昨天下午4点 跟进人: 刘洋
    /log undo ID · /log edit ID [field=value …] · /log next ID [WHEN|none]
"""

from __future__ import annotations

import re

from handlers import inputs
from handlers.cards import followups as cards
from handlers.commands.registry import command
from handlers.context import Ctx
from handlers.dates_past import parse_past
from handlers.dialogs import engine as dialogs
from handlers.dialogs import log_call
from handlers.errors import InvalidInput, NotFound
from handlers.i18n import ENUMS, LANGS, catalog, match_enum, parse_enum
from handlers.lookup import Ambiguous, resolve_customer
from handlers.services import followups as svc
from handlers.views import Action, Button, Buttons, Error, Reply, Text
from handlers.words import refuse_words_after_customer

SALES_ROLES = ("rep", "manager", "admin")
# the keywords after the content, each `WORD:` (or `WORD：`); longest first, so `下次跟进时间:` is `next`
_KEYWORDS = {"next follow-up": "next", "next followup": "next", "next": "next", "result": "result",
             "date": "date", "by": "by", "下次跟进时间": "next", "下次跟进": "next", "下次": "next", "结果": "result",
             "跟进日期": "date", "跟进时间": "date", "日期": "date", "时间": "date", "跟进人": "by"}
_KEYWORD = re.compile(r"(?i)(?:\b(next\s+follow-?up|next|result|date|by)|(下次跟进时间|下次跟进|下次|结果|跟进日期|"
                      r"跟进时间|日期|时间|跟进人))\s*[::]")
_HEAD_COLON = re.compile(r"[::]")


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
    next_at = svc.when(ctx, extras["next"]) if extras.get("next") else None
    result = parse_enum("result", extras["result"], lang=ctx.lang) if extras.get("result") else None
    made = parse_past(extras["date"], now=ctx.now, tz=ctx.tz, lang=ctx.lang) if extras.get("date") else None
    author = svc.find_author(ctx, extras["by"]) if "by" in extras else None
    fu = svc.log_followup(ctx, customer=customer, method=method or "phone", content=content, feedback=feedback,
                          next_at=next_at, result=result, date=made, author=author)
    return log_call.confirmation(ctx, fu, customer)


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
        return cards.edit_view(ctx, *svc.get_followup(ctx, fid))
    changes = parse_changes(ctx, rest)
    return cards.edited(ctx, *svc.edit_followup(ctx, fid, changes))


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
            out[key] = None if value.lower() in ("", "none", "无") else svc.when(ctx, value)
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
    next_at = None if rest.lower() in ("none", "no", "无", "不需要") else svc.when(ctx, rest)
    _fu, customer, changed = svc.set_next(ctx, fid, next_at)
    return cards.next_set(ctx, customer, next_at, changed=changed)
