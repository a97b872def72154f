"""Paged lists: one helper so every list pages the same way (`/followups p2`), and the labels every list carries
(adapters render them as they are: renderers never translate)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from handlers.context import Ctx
from handlers.i18n import t
from handlers.views import Action, ListItem, ListPage, Reply

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
            size: int | None = None, total: int | None = None, more: bool = False) -> ListPage:
    """One page of `rows`; `cmd` is the command that shows this list (the page number is appended).

    With `total`, `rows` is already that page's slice (the caller paged in SQL, see `clamp`); `more`: the
    caller stopped counting at `total` (shown as "1000+").
    """
    size = size or ctx.settings.page_size
    if total is None:
        total = len(rows)
        page = clamp(page, total, size)
        chunk = rows[(page - 1) * size: page * size]
    else:
        page, chunk = clamp(page, total, size), rows
    pages = max(1, -(-total // size))
    base = cmd.strip()
    return ListPage(
        title=title, items=tuple(item(r) for r in chunk), page=page, pages=pages, total=total,
        prev=Action(f"{base} p{page - 1}".strip()) if page > 1 else None,
        next=Action(f"{base} p{page + 1}".strip()) if page < pages else None,
        empty_text=ctx.t(empty_key),
        nav_text=ctx.t("list.page_more" if more else "list.page", page=page, pages=pages, total=total),
        prev_label=ctx.t("list.prev"), next_label=ctx.t("list.next"))


def clamp(page: int, total: int, size: int) -> int:
    """The page number shown for `page` of a list of `total` rows (1 … last page)."""
    return min(max(1, page), max(1, -(-total // size)))


def labelled(reply: Reply, lang: str) -> Reply:
    """`reply` with every list's empty text and page labels in `lang` where the list did not set them (the router
    runs this on every answer)."""
    if not any(isinstance(v, ListPage) for v in reply.views):
        return reply
    return dataclasses.replace(reply, views=tuple(_labels(v, lang) if isinstance(v, ListPage) else v
                                                  for v in reply.views))


def _labels(v: ListPage, lang: str) -> ListPage:
    return dataclasses.replace(
        v, empty_text=v.empty_text or t(lang, "list.empty"),
        nav_text=v.nav_text or t(lang, "list.page", page=v.page, pages=v.pages, total=v.total),
        prev_label=v.prev_label or t(lang, "list.prev"), next_label=v.next_label or t(lang, "list.next"))
