"""Render neutral views as terminal text. Buttons become numbered choices: `[1] Done`."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import singledispatch

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


@dataclass
class Rendered:
    """`prefix` and `start` number a notification's choices apart from the reply's: `[n3] Approve`."""

    lines: list[str] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    prefix: str = ""
    start: int = 0

    def choice(self, label: str, action: Action) -> str:
        self.actions.append(action)
        return f"[{self.label(len(self.actions))}] {label}"

    def label(self, n: int) -> str:
        """What to type to press the n-th choice (1-based) of this rendering."""
        return f"{self.prefix}{self.start + n}"

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def clean(s: str) -> str:
    """User text on a terminal: drop control characters (no escape sequences reach the screen)."""
    return "".join(ch if ch.isprintable() or ch in "\n\t" else "?" for ch in s)


@singledispatch
def render_view(view: object, out: Rendered, lang: str) -> None:
    raise TypeError(f"no console renderer for {type(view).__name__}")


@render_view.register
def render_header(v: Header, out: Rendered, lang: str) -> None:
    out.lines.append(f"== {clean(v.text)} ==")


@render_view.register
def render_text(v: Text, out: Rendered, lang: str) -> None:
    out.lines.append(("  " if v.muted else "") + clean(v.text))


@render_view.register
def render_error(v: Error, out: Rendered, lang: str) -> None:
    out.lines.append("⚠ " + clean(v.text))


@render_view.register
def render_fields(v: Fields, out: Rendered, lang: str) -> None:
    for k, val in v.items:
        body = clean(val).replace("\n", "\n    ")
        out.lines.append(f"  {clean(k)}: {body}")


@render_view.register
def render_buttons(v: Buttons, out: Rendered, lang: str) -> None:
    out.lines.append("  ".join(out.choice(clean(b.label), b.action) for b in v.buttons))


@render_view.register
def render_select(v: Select, out: Rendered, lang: str) -> None:
    out.lines.append(clean(v.placeholder) + ":")
    for o in v.options:
        desc = f" — {clean(o.description)}" if o.description else ""
        out.lines.append("  " + out.choice(clean(o.label), o.action) + desc)


@render_view.register
def render_list(v: ListPage, out: Rendered, lang: str) -> None:
    out.lines.append(f"== {clean(v.title)} ==")
    if not v.items and v.empty_text:
        out.lines.append("  " + clean(v.empty_text))
    for it in v.items:
        out.lines.append(f"• {clean(it.text)}")
        if it.detail:
            out.lines.append("    " + clean(it.detail).replace("\n", "\n    "))
        if it.buttons:
            out.lines.append("    " + "  ".join(out.choice(clean(b.label), b.action) for b in it.buttons))
    if v.pages > 1:
        nav = [v.nav_text or f"{v.page}/{v.pages} · {v.total}"]  # the core labels its lists
        if v.prev:
            nav.append(out.choice(v.prev_label or "◀", v.prev))
        if v.next:
            nav.append(out.choice(v.next_label or "▶", v.next))
        out.lines.append("  " + "  ".join(nav))


@render_view.register
def render_confirm(v: Confirm, out: Rendered, lang: str) -> None:
    out.lines.append(clean(v.text))
    out.lines.append("  ".join(out.choice(clean(b.label), b.action) for b in (v.yes, v.no)))


@render_view.register
def render_form(v: Form, out: Rendered, lang: str) -> None:
    out.lines.append(f"== {clean(v.title)} ==")


def render(reply: Reply, lang: str, *, prefix: str = "", start: int = 0) -> Rendered:
    out = Rendered(prefix=prefix, start=start)
    for v in reply.views:
        if reply.expects_text and isinstance(v, Buttons):
            # a free-text answer is expected: numbers are answers, so these are words to type instead
            out.lines.append("  (" + " · ".join(clean(b.label) for b in v.buttons) + ")")
            continue
        render_view(v, out, lang)
    if reply.file:
        out.lines.append(f"📎 {reply.file.name} → {reply.file.path}")
    return out
