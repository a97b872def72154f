"""`/customer merge CODE INTO CODE [yes|cancel]`: merge a duplicate customer into another (managers for their
team's customers, admins any). Without `yes` it shows what would move, with Merge / Cancel buttons; the
buttons stand for the same command with `yes` or `cancel`. Names work as well as codes.

    /customer merge ABC2026001 INTO ABC2026007        the confirmation
    /customer merge ABC2026001 into ABC2026007 yes    merge at once (what the Merge button sends)
    /customer 合并 ABC2026001 到 ABC2026007
"""

from __future__ import annotations

import re

from handlers.cards import merging as cards
from handlers.context import Ctx
from handlers.errors import Conflict, Forbidden, InvalidInput
from handlers.lookup import merged_into, resolve_customer
from handlers.services import merging
from handlers.views import Reply
from storage.models import Customer

_INTO = re.compile(r"\s+(?:into|to|到|并入|合并到|->|→)\s+", re.IGNORECASE)
_YES = {"yes", "y", "confirm", "确认", "是"}
_NO = {"cancel", "no", "n", "取消", "否"}


def parse(args: str) -> tuple[str, str, str]:
    """(first, second, word): `A INTO B [yes|cancel]`; word is "", "yes" or "cancel"."""
    parts = _INTO.split(args.strip(), maxsplit=1)
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise InvalidInput("merge.usage")
    second, word = parts[1].strip(), ""
    head, _, last = second.rpartition(" ")
    if head and last.lower() in _YES | _NO:
        second, word = head.strip(), "yes" if last.lower() in _YES else "cancel"
    return parts[0].strip(), second, word


def _source(ctx: Ctx, query: str, dst_query: str) -> Customer:
    """The customer to merge; one already merged into the target is a Conflict (a second click)."""
    done = merged_into(ctx, query)
    if done is not None:
        dead, alive = done
        target = merged_into(ctx, dst_query)
        dst = target[1] if target else resolve_customer(ctx, dst_query)
        if alive.id == dst.id:
            raise Conflict("merge.err.done", src=dead.code, dst=alive.code)
    return resolve_customer(ctx, query)


def merge(ctx: Ctx, args: str) -> Reply:
    if ctx.role not in merging.ROLES:
        raise Forbidden("merge.err.role")
    first, second, word = parse(args)
    src = _source(ctx, first, second)
    dst = resolve_customer(ctx, second)
    if word == "cancel":
        return cards.merge_cancelled(ctx, src, dst)
    if word != "yes":
        p = merging.plan(ctx, src, dst)
        return cards.merge_confirm(ctx, p.src, p.dst, p.counts)
    r = merging.merge(ctx, src, dst)
    return cards.merge_done(ctx, r.src, r.dst, r.moved)
