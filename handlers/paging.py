"""Paged lists: one helper so every list pages the same way (`/followups p2`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from handlers.context import Ctx
from handlers.views import Action, ListItem, ListPage

T = TypeVar("T")
_PAGE = re.compile(r"(?:^|\s)p(\d{1,4})\s*$")


def split_page(args: str) -> tuple[str, int]:
    """`"mine p3"` → (`"mine"`, 3). A missing page is 1."""
    m = _PAGE.search(args)
    if not m:
        return args.strip(), 1
    return args[: m.start()].strip(), max(1, int(m.group(1)))


def page_of(ctx: Ctx, rows: Sequence[T], *, title: str, page: int, cmd: str,
            item: Callable[[T], ListItem], empty_key: str = "list.empty",
            size: int | None = None) -> ListPage:
    """One page of `rows`; `cmd` is the command that shows this list (the page number is appended)."""
    size = size or ctx.settings.page_size
    total = len(rows)
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    chunk = rows[(page - 1) * size: page * size]
    base = cmd.strip()
    return ListPage(
        title=title, items=tuple(item(r) for r in chunk), page=page, pages=pages, total=total,
        prev=Action(f"{base} p{page - 1}".strip()) if page > 1 else None,
        next=Action(f"{base} p{page + 1}".strip()) if page < pages else None,
        empty_text=ctx.t(empty_key),
        nav_text=ctx.t("list.page", page=page, pages=pages, total=total),
        prev_label=ctx.t("list.prev"), next_label=ctx.t("list.next"))
