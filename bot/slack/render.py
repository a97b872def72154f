"""Neutral views → Block Kit, one `singledispatch` renderer per view type.

Renderers never translate content (the core did) and never touch the database. Every button and select option
carries a signed token (`sign(action)`) as its value. `message()` and `modal_of()` keep every Block Kit limit
(`bot.slack.limits`): what does not fit goes behind a "more" control (see `more_block`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import singledispatch

from bot.safe_text import clean
from bot.slack import limits as L
from handlers.i18n import t
from handlers.views import (
    Action,
    Button,
    Buttons,
    Confirm,
    Error,
    Fields,
    Form,
    Header,
    ListItem,
    ListPage,
    Reply,
    Select,
    Text,
    plain_text,
)

Signer = Callable[[Action], str]
Stash = Callable[[list[dict]], str]

MORE_ACTION = "crm_more"
NAV_PREFIX = "crm_nav_"  # action_id of a list's previous/next page button


@dataclass
class Out:
    sign: Signer
    lang: str
    blocks: list[dict] = field(default_factory=list)
    n: int = 0

    def action_id(self, kind: str) -> str:
        self.n += 1
        return f"crm_{kind}_{self.n}"

    def button(self, b: Button, kind: str = "btn") -> dict:
        el = {"type": "button", "text": L.plain(b.label, L.BUTTON_TEXT), "value": self.sign(b.action)[:L.BUTTON_VALUE],
              "action_id": self.action_id(kind)}
        if b.style:
            el["style"] = b.style
        return el

    def actions(self, elements: list[dict]) -> None:
        for i in range(0, len(elements), L.ACTIONS_ELEMENTS):
            self.blocks.append({"type": "actions", "elements": elements[i:i + L.ACTIONS_ELEMENTS]})

    def section(self, escaped: str, accessory: dict | None = None) -> None:
        if not escaped.strip() and accessory is None:
            return  # Slack refuses an empty section
        parts = L.chunks(escaped, L.SECTION_TEXT)
        for i, p in enumerate(parts):
            block = {"type": "section", "text": {"type": "mrkdwn", "text": p if p.strip() else "·"}}
            if accessory and i == len(parts) - 1:
                block["accessory"] = accessory
            self.blocks.append(block)

    def context(self, escaped: str) -> None:
        if not escaped.strip():
            return
        self.blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": L.cut_escaped(escaped, 2000)}]})


@singledispatch
def render_view(view: object, out: Out) -> None:
    raise TypeError(f"no Slack renderer for {type(view).__name__}")


@render_view.register
def render_header(v: Header, out: Out) -> None:
    out.blocks.append({"type": "header", "text": L.plain(v.text, L.HEADER_TEXT)})


@render_view.register
def render_text(v: Text, out: Out) -> None:
    e = L.escape(v.text)
    if v.muted and len(e) <= 2000:
        out.context(e)
    else:
        out.section(e)


@render_view.register
def render_error(v: Error, out: Out) -> None:
    out.section(":warning: " + L.escape(v.text))


@render_view.register
def render_fields(v: Fields, out: Out) -> None:
    short: list[dict] = []
    for k, val in v.items:
        body = f"*{L.escape(k)}*\n{L.escape(val) if val else '—'}"
        if len(body) > L.FIELD_TEXT:  # a long value (a note) gets its own sections, not a cut field
            _flush_fields(short, out)
            out.section(body)
            continue
        short.append({"type": "mrkdwn", "text": body})
    _flush_fields(short, out)


def _flush_fields(short: list[dict], out: Out) -> None:
    for i in range(0, len(short), L.FIELDS):
        out.blocks.append({"type": "section", "fields": short[i:i + L.FIELDS]})
    short.clear()


@render_view.register
def render_buttons(v: Buttons, out: Out) -> None:
    if v.buttons:
        out.actions([out.button(b) for b in v.buttons])


@render_view.register
def render_select(v: Select, out: Out) -> None:
    elements = []
    for i in range(0, len(v.options), L.OPTIONS):
        options = []
        for o in v.options[i:i + L.OPTIONS]:
            opt = {"text": L.plain(o.label, L.OPTION_TEXT), "value": out.sign(o.action)[:L.OPTION_VALUE]}
            if o.description:
                opt["description"] = L.plain(o.description, L.OPTION_DESCRIPTION)
            options.append(opt)
        elements.append({"type": "static_select", "placeholder": L.plain(v.placeholder, L.PLACEHOLDER),
                         "action_id": out.action_id("sel"), "options": options})
    if elements:
        out.actions(elements)


def _item_text(it: ListItem) -> str:
    e = f"*{L.escape(it.text)}*"
    return e + ("\n" + L.escape(it.detail) if it.detail else "")


@render_view.register
def render_list(v: ListPage, out: Out) -> None:
    if v.title:
        out.blocks.append({"type": "header", "text": L.plain(v.title, L.HEADER_TEXT)})
    if not v.items:
        out.context(L.escape(v.empty_text or t(out.lang, "list.empty")))
    lines: list[str] = []  # items without buttons share sections, one line each
    for it in v.items:
        if not it.buttons:
            lines.append("• " + _item_text(it))
            continue
        if lines:
            out.section("\n".join(lines))
            lines = []
        if len(it.buttons) == 1:
            out.section(_item_text(it), accessory=out.button(it.buttons[0]))
        else:
            out.section(_item_text(it))
            out.actions([out.button(b) for b in it.buttons])
    if lines:
        out.section("\n".join(lines))
    if v.pages > 1:
        out.context(L.escape(v.nav_text or t(out.lang, "list.page", page=v.page, pages=v.pages, total=v.total)))
        nav = [Button(v.prev_label or t(out.lang, "list.prev"), v.prev)] if v.prev else []
        nav += [Button(v.next_label or t(out.lang, "list.next"), v.next)] if v.next else []
        if nav:  # page buttons turn the page in place (NAV_ACTION)
            out.actions([out.button(b, "nav") for b in nav])


@render_view.register
def render_confirm(v: Confirm, out: Out) -> None:
    out.section(L.escape(v.text))
    yes = v.yes if v.yes.style else Button(v.yes.label, v.yes.action, "primary")
    out.actions([out.button(yes), out.button(v.no)])


@render_view.register
def render_form(v: Form, out: Out) -> None:
    out.blocks.append({"type": "header", "text": L.plain(v.title, L.HEADER_TEXT)})


def blocks_of(reply: Reply, *, sign: Signer, lang: str) -> list[dict]:
    out = Out(sign=sign, lang=lang)
    for v in reply.views:
        render_view(v, out)
    return out.blocks


def more_block(key: str, lang: str, hidden: int) -> dict:
    return {"type": "actions", "block_id": "crm_more", "elements": [
        {"type": "button", "action_id": MORE_ACTION, "value": key,
         "text": L.plain(t(lang, "slack.more", n=hidden), L.BUTTON_TEXT)}]}


def guard(blocks: list[dict], *, max_blocks: int, lang: str, stash: Stash | None) -> list[dict]:
    """Keep the limits: blocks that do not fit go behind a "more" button (or a note when nothing can hold them)."""
    kept, rest = L.fit(blocks, max_blocks)
    if not rest:
        return kept
    if stash is None:
        return kept + [{"type": "context", "elements": [
            {"type": "mrkdwn", "text": L.escape(t(lang, "slack.cut", n=len(rest)))}]}]
    return kept + [more_block(stash(rest), lang, len(rest))]


def fallback(reply: Reply, lang: str) -> str:
    """The top-level `text` (notifications, screen readers): plain, escaped, short."""
    s = clean(plain_text(reply, L.FALLBACK_TEXT)).strip() or t(lang, "slack.fallback")
    return L.cut_escaped(L.escape(s), L.FALLBACK_TEXT)


def message(reply: Reply, *, sign: Signer, lang: str, stash: Stash | None = None) -> dict:
    """`text` and `blocks` for chat.postMessage / chat.update / response_url."""
    blocks = guard(blocks_of(reply, sign=sign, lang=lang), max_blocks=L.BLOCKS_MESSAGE, lang=lang, stash=stash)
    return {"text": fallback(reply, lang), "blocks": blocks}
