"""A complaint's details from the handbook (002 §3.3): the customer's emotion when it came in (激动/不满/平和/失望)
and its cause category (产品质量, 服务流程 …), which the weekly complaint review groups by.

`classify` sets either or both, typed in English or Chinese, by whoever may handle the ticket (its assignee,
a supervisor or an admin) or, for the emotion, whoever opens it. Each change is a `classified` entry in the
ticket's log (who, when, what it became).
"""

from __future__ import annotations

from handlers.context import Ctx
from handlers.errors import InvalidInput
from handlers.i18n import enum_label, match_enum
from handlers.services.tickets import add_event, require_handler
from storage.models import Ticket

FIELDS = {"emotion": "emotion", "cause": "complaint_cause"}  # Ticket field → its enum


def parse_details(words: list[str]) -> dict[str, str]:
    """`激动 产品质量`, `emotion=upset cause:quality`, `情绪=激动 原因=质量`: {field: canonical id}. A word that is
    neither an emotion nor a cause is an InvalidInput naming both lists."""
    out: dict[str, str] = {}
    for w in words:
        value = w.split("=", 1)[-1].split(":", 1)[-1].split("：", 1)[-1].split("＝", 1)[-1]
        hit = next(((f, v) for f, kind in FIELDS.items() if (v := match_enum(kind, value))), None)
        if hit is None or hit[0] in out:
            raise InvalidInput("cmp.err.word", value=w)
        out[hit[0]] = hit[1]
    return out


def classify(ctx: Ctx, t: Ticket, *, emotion: str | None = None, cause: str | None = None,
             opening: bool = False) -> dict[str, str]:
    """Set a complaint's emotion and/or cause. `opening`: set by the creator in the same unit of work as the
    ticket (no handler check). Returns {field: new value} of what changed."""
    if t.type != "complaint":
        raise InvalidInput("cmp.err.not_complaint", code=t.code)
    if not opening:
        require_handler(ctx, t)
    changes = {f: v for f, v in (("emotion", emotion), ("cause", cause)) if v and getattr(t, f) != v}
    for f, v in changes.items():
        setattr(t, f, v)
    if changes:
        t.updated_at = ctx.now
        add_event(ctx, t, "classified", text=" · ".join(
            f"{ctx.t(f'cmp.f.{f}')}: {enum_label(ctx.lang, FIELDS[f], v)}" for f, v in changes.items()))
    ctx.session.flush()
    return changes
