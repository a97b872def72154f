"""/followups — the daily list (overdue, today, next 7 days) with Done / Snooze / Log buttons;
/history CUSTOMER [method:…] [from:… to:…] — past follow-ups; /history CODE audit — the audit log."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta

from handlers import inputs
from handlers.cards import customers as customer_cards
from handlers.cards import followups as cards
from handlers.commands.followups import SALES_ROLES
from handlers.commands.registry import command
from handlers.context import Ctx
from handlers.dates import parse_day
from handlers.errors import InvalidInput
from handlers.i18n import parse_enum
from handlers.lookup import resolve_customer
from handlers.paging import clamp, page_of, split_page
from handlers.permissions import team_ids
from handlers.services import audit
from handlers.services import followups as svc
from handlers.views import Reply, Text
from handlers.words import scope_word
from storage.repos import staff as staff_repo

PAGE = 5  # each item carries five buttons


@command("followups", aliases=("fu", "待跟进", "跟进列表"), roles=SALES_ROLES, reads=True)
def cmd_followups(ctx: Ctx, args: str) -> Reply:
    rest, page = split_page(args)
    word, _, tail = rest.partition(" ")
    word = word.lower()
    if word in ("done", "完成"):
        return _done(ctx, tail.strip())
    if word in ("snooze", "推迟"):
        return _snooze(ctx, tail.strip())
    scope = scope_word(ctx, word, cmd="/followups") if word else "mine"
    if scope in ("team", "all"):  # a manager's team; an admin's everyone
        owners, cmd = (None if ctx.role == "admin" else team_ids(ctx)), f"/followups {word}"
        title_key = "fu.team_title"
    elif scope == "mine":
        owners, cmd, title_key = {ctx.staff.id}, "/followups", "fu.list_title"
    else:
        raise InvalidInput("fu.usage", usage=ctx.t("fu.usage_followups"))
    total, overdue = svc.count_due(ctx, owners)
    page = clamp(page, total, PAGE)
    rows = svc.due_followups(ctx, owners, offset=(page - 1) * PAGE, limit=PAGE)
    today_end = ctx.local(ctx.now).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    title = ctx.t(title_key, total=total, overdue=overdue)
    names = {} if owners == {ctx.staff.id} else staff_repo.names(ctx.session, {f.assignee_id for f, _ in rows})
    lp = page_of(ctx, rows, title=title, page=page, cmd=cmd, size=PAGE, empty_key="fu.list_empty",
                 item=lambda r: cards.due_item(ctx, r[0], r[1], today_end, names.get(r[0].assignee_id)), total=total)
    return Reply(views=(lp,))


def _done(ctx: Ctx, args: str) -> Reply:
    if not inputs.is_id(args):
        raise InvalidInput("fu.usage", usage="/followups done ID")
    fu, c, changed = svc.mark_done(ctx, args)
    key = "fu.done" if changed else "fu.done_already"
    return _with_list(ctx, Reply(views=(Text(ctx.t(key, code=c.code, name=c.name)),)))


def _snooze(ctx: Ctx, args: str) -> Reply:
    fid, _, span = args.partition(" ")
    if not inputs.is_id(fid) or not span.strip():
        raise InvalidInput("fu.usage", usage="/followups snooze ID 1d|3d|1w")
    fu, c, changed = svc.snooze(ctx, fid, span.strip())
    key = "fu.snoozed" if changed else "fu.snooze_already"
    return _with_list(ctx, Reply(views=(Text(ctx.t(key, code=c.code, when=cards.fmt_when(ctx, fu.next_followup_at))),)))


def _with_list(ctx: Ctx, done: Reply) -> Reply:
    """A Done/Snooze pressed in the list: the confirmation and the refreshed list replace that message."""
    if not ctx.via_button:
        return done
    return dataclasses.replace(done + cmd_followups(ctx, ""), replace=True)


# ---------------------------------------------------------------- /history

_FILTER = re.compile(r"(?i)(?:^|\s)(method|方式|from|从|to|到)\s*[::]\s*(\S+)")


@command("history", aliases=("历史", "跟进记录"), roles=SALES_ROLES, reads=True)
def cmd_history(ctx: Ctx, args: str) -> Reply:
    rest, page = split_page(args)
    if not rest:
        raise InvalidInput("fu.usage", usage=ctx.t("usage.history"))
    if rest.lower().endswith((" audit", " 审计")):
        return _audit(ctx, rest.rsplit(" ", 1)[0].strip())
    filters = {m.group(1).lower(): m.group(2) for m in _FILTER.finditer(rest)}
    query = _FILTER.sub(" ", rest).strip()
    method = filters.get("method") or filters.get("方式")
    method = parse_enum("method", method, lang=ctx.lang) if method else None
    start = _day(ctx, filters.get("from") or filters.get("从"))
    end = _day(ctx, filters.get("to") or filters.get("到"))
    if start and end and start > end:
        raise InvalidInput("fu.history_range")
    customer = resolve_customer(ctx, query)
    rows = svc.history(ctx, customer, method=method, start=start,
                       end=end + timedelta(days=1) if end else None)
    names = staff_repo.names(ctx.session, {f.staff_id for f in rows}) if rows else {}
    base = "/history " + rest
    lp = page_of(ctx, rows, title=ctx.t("fu.history_title", code=customer.code, name=customer.name),
                 page=page, cmd=base, empty_key="fu.history_none_match" if filters else "fu.history_empty",
                 item=lambda f: cards.history_item(ctx, f, names))
    return Reply(views=(lp,))


def _day(ctx: Ctx, text: str | None) -> datetime | None:
    if not text:
        return None
    return parse_day(text, now=ctx.now, tz=ctx.tz, lang=ctx.lang)


def _audit(ctx: Ctx, query: str) -> Reply:
    customer = resolve_customer(ctx, query)
    return customer_cards.audit_page(ctx, customer, audit.customer_entries(ctx, customer))
