"""Render neutral views as Telegram messages: HTML parse mode, inline keyboards, split at 4096 characters.

`render(reply, sign=..., lang=...)` returns a list of `Outgoing` messages. Every piece of text from a view is
escaped with `html.escape` (user text never becomes markup). Buttons carry `sign(cmd)`, the signed token of
their action (handlers.actions), which must fit Telegram's 64-byte callback_data. A message holds at most
4096 characters (UTF-16 units, as Telegram counts) and 100 buttons (8 per row); longer replies are cut
between lines, and a single overlong line is cut on a word boundary before markup is added. A list item's buttons travel with the item's message.
Renderers never translate and never touch the database: paging controls are symbols (◀ 2/5 ▶), and `lang`
only picks the fallback text of an empty list.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import singledispatch

from bot.safe_text import clean, cut_units, units
from handlers.i18n import t
from handlers.views import (
    Action,
    Buttons,
    Confirm,
    Error,
    Fields,
    Form,
    Header,
    ListPage,
    Reply,
    Select,
    Text,
)

MAX_TEXT = 4096
MAX_CALLBACK = 64
MAX_BUTTONS = 100
MAX_ROW = 8
ROW_CHARS = 32  # labels per row, roughly what fits a phone screen
MAX_ALERT = 200  # answerCallbackQuery text
MAX_LABEL = 60  # UTF-16 units: Telegram documents no limit, a phone shows far less

Signer = Callable[[str], str]


@dataclass(frozen=True)
class Key:
    """One inline button: its label and signed callback_data."""

    label: str
    data: str


@dataclass
class Block:
    """A piece of the message: HTML lines (each within MAX_TEXT) and the button rows that go with them."""

    lines: list[str] = field(default_factory=list)
    rows: list[list[Key]] = field(default_factory=list)


@dataclass
class Outgoing:
    """One Telegram message to send: HTML text and its inline keyboard rows (maybe none)."""

    text: str
    rows: list[list[Key]] = field(default_factory=list)

    @property
    def keyboard(self) -> list[list[dict]]:
        return [[{"text": k.label, "callback_data": k.data} for k in row] for row in self.rows]


@dataclass
class Ctx:
    sign: Signer
    lang: str
    blocks: list[Block] = field(default_factory=list)

    def block(self) -> Block:
        b = Block()
        self.blocks.append(b)
        return b

    def key(self, label: str, action: Action) -> Key:
        data = self.sign(action.cmd)
        if len(data.encode("utf-8")) > MAX_CALLBACK:
            raise ValueError(f"callback_data over {MAX_CALLBACK} bytes for {action.cmd!r}")
        return Key(cut_units(" ".join(clean(label).split()) or "·", MAX_LABEL), data)


def esc(s: str) -> str:
    return html.escape(clean(s), quote=False)


def ulen(s: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP is two)."""
    return units(s)


def cut_plain(s: str, limit: int) -> list[str]:
    """Cut plain text so that each piece, once escaped, fits in `limit` characters; prefer line/word ends."""
    out: list[str] = []
    while ulen(esc(s)) > limit:
        lo, hi = 1, len(s)  # the longest prefix whose escaped form fits
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if ulen(esc(s[:mid])) <= limit:
                lo = mid
            else:
                hi = mid - 1
        cut = lo
        for sep in ("\n", " "):
            at = s.rfind(sep, 0, lo)
            if at > lo // 2:
                cut = at + 1
                break
        out.append(s[:cut].rstrip())
        s = s[cut:].lstrip("\n")
    out.append(s)
    return out


def styled(text: str, tag: str | None = None, prefix: str = "", reserve: int = 0) -> list[str]:
    """`text` escaped, in `<tag>`, as one or more lines that each fit a message (none for blank text:
    Telegram refuses a message that is only whitespace)."""
    wrap = len(f"<{tag}></{tag}>") if tag else 0
    pieces = [p for p in cut_plain(clean(text), MAX_TEXT - wrap - ulen(prefix) - reserve) if p.strip()]
    return [prefix + (f"<{tag}>{esc(p)}</{tag}>" if tag else esc(p)) for p in pieces]


def pack_rows(keys: list[Key], *, per_row: int = MAX_ROW) -> list[list[Key]]:
    """Lay buttons out in rows: at most `per_row` (≤ 8) per row and about ROW_CHARS of labels."""
    rows: list[list[Key]] = []
    row: list[Key] = []
    width = 0
    for k in keys:
        w = max(len(k.label), 4)
        if row and (len(row) >= min(per_row, MAX_ROW) or width + w > ROW_CHARS):
            rows.append(row)
            row, width = [], 0
        row.append(k)
        width += w
    if row:
        rows.append(row)
    return rows


# ---------------------------------------------------------------- one renderer per view type


@singledispatch
def render_view(view: object, c: Ctx) -> None:
    raise TypeError(f"no Telegram renderer for {type(view).__name__}")


@render_view.register
def render_header(v: Header, c: Ctx) -> None:
    c.block().lines.extend(styled(v.text, "b"))


@render_view.register
def render_text(v: Text, c: Ctx) -> None:
    c.block().lines.extend(styled(v.text, "i" if v.muted else None))


@render_view.register
def render_error(v: Error, c: Ctx) -> None:
    c.block().lines.extend(styled(v.text, prefix="⚠️ "))


@render_view.register
def render_fields(v: Fields, c: Ctx) -> None:
    b = c.block()
    for k, val in v.items:
        head = f"<b>{esc(k)}</b>: "
        if ulen(head) + ulen(esc(val)) <= MAX_TEXT:
            b.lines.append(head + esc(val))
        else:  # a long value (a note) or a long key: each on lines of its own
            b.lines.extend(styled(k + ":", "b"))
            b.lines.extend(styled(val))


@render_view.register
def render_buttons(v: Buttons, c: Ctx) -> None:
    keys = [c.key(b.label, b.action) for b in v.buttons]
    target = c.blocks[-1] if c.blocks else c.block()
    target.rows.extend(pack_rows(keys))


@render_view.register
def render_select(v: Select, c: Ctx) -> None:
    b = c.block()
    b.lines.extend(styled(v.placeholder, "b"))
    for o in v.options:
        if o.description:
            b.lines.extend(styled(f"{o.label} — {o.description}", prefix="• "))
        b.rows.append([c.key(o.label, o.action)])


@render_view.register
def render_list(v: ListPage, c: Ctx) -> None:
    c.block().lines.extend(styled(v.title, "b"))
    if not v.items:
        c.block().lines.extend(styled(v.empty_text or t(c.lang, "list.empty"), "i"))
    for n, it in enumerate(v.items, 1):
        b = c.block()
        b.lines.extend(styled(it.text, prefix=f"{n}. "))
        if it.detail:
            b.lines.extend(styled(it.detail, "i", prefix="    "))
        if it.buttons:
            keys = [c.key(f"{n} · {btn.label}", btn.action) for btn in it.buttons[:MAX_ROW]]
            b.rows.extend(pack_rows(keys))
    if v.pages > 1:  # the core translated the labels; symbols only when it did not
        b = c.block()
        b.lines.extend(styled(v.nav_text or f"{v.page}/{v.pages} · {v.total}", "i"))
        nav = [c.key(v.prev_label or "◀", v.prev) if v.prev else None,
               c.key(v.next_label or "▶", v.next) if v.next else None]
        if any(nav):
            b.rows.append([k for k in nav if k])


@render_view.register
def render_confirm(v: Confirm, c: Ctx) -> None:
    b = c.block()
    b.lines.extend(styled(v.text))
    b.rows.append([c.key(v.yes.label, v.yes.action), c.key(v.no.label, v.no.action)])


@render_view.register
def render_form(v: Form, c: Ctx) -> None:
    c.block().lines.extend(styled(v.title, "b"))


# ---------------------------------------------------------------- packing blocks into messages


def _pack(blocks: list[Block]) -> list[Outgoing]:
    out: list[Outgoing] = []
    lines: list[str] = []
    rows: list[list[Key]] = []
    size = 0

    def flush() -> None:
        nonlocal lines, rows, size
        if lines or rows:
            out.append(Outgoing("\n".join(lines) if lines else "⬇️", rows))
        lines, rows, size = [], [], 0

    for b in blocks:
        n_keys = sum(len(r) for r in b.rows)
        if rows and sum(len(r) for r in rows) + n_keys > MAX_BUTTONS:
            flush()
        for line in b.lines:
            if lines and size + 1 + ulen(line) > MAX_TEXT:
                flush()
            size += ulen(line) + (1 if lines else 0)
            lines.append(line)
        for row in b.rows:
            if sum(len(r) for r in rows) + len(row) > MAX_BUTTONS:
                flush()
            rows.append(row)
    flush()
    return out


def render(reply: Reply, *, sign: Signer, lang: str = "en") -> list[Outgoing]:
    """The messages that show `reply` (an empty reply gives none)."""
    c = Ctx(sign=sign, lang=lang)
    for v in reply.views:
        render_view(v, c)
    if not c.blocks and reply.text:
        c.block().lines.extend(styled(reply.text))
    return _pack(c.blocks)


def alert_text(reply: Reply) -> str | None:
    """The text of a reply that is only an error (shown as an alert on a button press), else None."""
    if reply.views and all(isinstance(v, Error) for v in reply.views):
        return cut_units(clean(" ".join(v.text for v in reply.views)), MAX_ALERT)
    return None
