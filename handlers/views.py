"""The neutral view model: what the core replies, and what every adapter renders.

Views are frozen dataclasses holding text that is already translated into the recipient's language. Text is
plain: adapters escape it for their platform (Slack mrkdwn, Telegram HTML, the terminal) and choose the
layout. A `Button` carries an `Action`: the command line a user could type to do the same thing. Adapters
turn it into a signed token (`handlers.actions`) for the platform's button value.

Views serialise to JSON (`to_json`/`from_json`) so a reply can wait in the outbox.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from json.encoder import encode_basestring as _escape  # what json.dumps(ensure_ascii=False) uses
from typing import Any, Literal

Style = Literal["primary", "danger"] | None


@dataclass(frozen=True)
class Action:
    """What a button does: the command text it stands for (`/ticket assign FW2026001 7`)."""

    cmd: str


@dataclass(frozen=True)
class Button:
    label: str
    action: Action
    style: Style = None


@dataclass(frozen=True)
class Header:
    """A title line."""

    text: str


@dataclass(frozen=True)
class Text:
    """A paragraph. `muted` is secondary information (context lines, hints)."""

    text: str
    muted: bool = False


@dataclass(frozen=True)
class Fields:
    """Key-value pairs, e.g. a customer card. Values may be multi-line."""

    items: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Buttons:
    buttons: tuple[Button, ...]


@dataclass(frozen=True)
class Option:
    label: str
    action: Action
    description: str = ""


@dataclass(frozen=True)
class Select:
    """A choice among options (Assign to an agent, pick a customer). Each option is an action."""

    placeholder: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class ListItem:
    text: str
    detail: str = ""
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class ListPage:
    """One page of a longer list. `prev`/`next` are the actions that show the neighbouring pages."""

    title: str
    items: tuple[ListItem, ...]
    page: int = 1
    pages: int = 1
    total: int = 0
    prev: Action | None = None
    next: Action | None = None
    empty_text: str = ""
    nav_text: str = ""  # "Page 2 of 5 · 48 in all", translated by the core
    prev_label: str = ""
    next_label: str = ""


@dataclass(frozen=True)
class Confirm:
    """A question with a yes and a no button."""

    text: str
    yes: Button
    no: Button


@dataclass(frozen=True)
class Error:
    text: str


@dataclass(frozen=True)
class FormField:
    """One field of a `Form`: adapters that show a whole dialog at once (a Slack modal) render these."""

    name: str
    label: str
    optional: bool = False
    multiline: bool = False
    choices: tuple[tuple[str, str], ...] = ()  # (label, value)
    value: str = ""
    hint: str = ""
    max_length: int = 3000


@dataclass(frozen=True)
class Form:
    """A whole guided dialog as one form. `dialog` names the dialog spec; `state` is an opaque key."""

    dialog: str
    title: str
    submit: str
    fields: tuple[FormField, ...]
    state: str = ""


View = Header | Text | Fields | Buttons | Select | ListPage | Confirm | Error | Form


@dataclass(frozen=True)
class Reply:
    """What the core answers to one inbound message.

    `public`: share in the channel (Slack in_channel) rather than only with the invoker.
    `replace`: the reply updates the message whose button was pressed, where the platform can do that.
    `form`: the whole current dialog, for adapters that render it as one form.
    `text`: a short plain fallback (notifications, screen readers); adapters derive one if empty.
    `expects_text`: the reply asks for typed text (a dialog step without choices).
    `repeat`: the inbound was handled before (a redelivery or a replayed request): nothing was done again.
    `lang_set`: the actor switched to this language (adapters show their menus in it at once).
    `menus_changed`: who sees which command menu changed (a new service channel): adapters set the menus again.
    """

    views: tuple[View, ...] = ()
    public: bool = False
    replace: bool = False
    form: Form | None = None
    text: str = ""
    file: FileRef | None = None
    expects_text: bool = False  # a dialog asks for free text: a typed number is an answer, not a button
    repeat: bool = False
    lang_set: str | None = None
    menus_changed: bool = False

    def __add__(self, other: Reply) -> Reply:
        return dataclasses.replace(
            self,
            views=self.views + other.views,
            form=self.form or other.form,
            file=self.file or other.file,
            public=self.public or other.public,
            lang_set=self.lang_set or other.lang_set,
            menus_changed=self.menus_changed or other.menus_changed,
        )


@dataclass(frozen=True)
class FileRef:
    """A file to send along (an export, a chart): a path on disk, its display name and MIME type."""

    path: str
    name: str
    mime: str = "application/octet-stream"
    title: str = ""


def reply(*views: View, **kw: Any) -> Reply:
    return Reply(views=tuple(views), **kw)


def error(text: str) -> Reply:
    return Reply(views=(Error(text),))


# ---------------------------------------------------------------- plain text fallback


def plain_text(r: Reply, limit: int = 3000) -> str:
    """A short plain-text summary of a reply, for notification previews and fallbacks."""
    if r.text:
        return r.text[:limit]
    parts: list[str] = []
    for v in r.views:
        if isinstance(v, Header | Text | Error):
            parts.append(v.text)
        elif isinstance(v, ListPage):
            parts.append(v.title)
        elif isinstance(v, Confirm):
            parts.append(v.text)
        elif isinstance(v, Fields):
            parts.extend(f"{k}: {val}" for k, val in v.items[:3])
        if sum(len(p) for p in parts) > limit:
            break
    return "\n".join(parts)[:limit]


# ---------------------------------------------------------------- JSON (for the outbox)

_TYPES: dict[str, type] = {
    c.__name__: c
    for c in (Action, Button, Header, Text, Fields, Buttons, Option, Select, ListItem, ListPage, Confirm,
              Error, FormField, Form, Reply, FileRef)
}


_FIELDS: dict[type, tuple[str, ...] | None] = {}  # a view class's field names (None: not a dataclass)


_LEAVES = frozenset((str, int, float, bool, type(None)))  # dumped as they are


def _dump(obj: Any, raw: list[str]) -> Any:
    cls = type(obj)
    if cls in _LEAVES:
        return obj
    if cls is Prerendered:  # written as a marker string, replaced by its JSON after json.dumps (`to_json`)
        raw.append(obj.json)
        return f"{_RAW}{len(raw) - 1}{_RAW}"
    names = _FIELDS.get(cls, ())
    if names == ():  # not seen yet (a digest dumps ~500 views per message: fields() once per class)
        names = _FIELDS[cls] = (tuple(f.name for f in dataclasses.fields(obj))
                                if dataclasses.is_dataclass(obj) else None)
    if names is not None:
        d = {}
        for n in names:  # leaves inline: most fields are text (a digest has ~1M of them at 2,000 reps)
            v = getattr(obj, n)
            d[n] = v if type(v) in _LEAVES else _dump(v, raw)
        d["__t"] = cls.__name__
        return d
    if isinstance(obj, tuple | list):
        return [x if type(x) in _LEAVES else _dump(x, raw) for x in obj]
    return obj


# ---------------------------------------------------------------- views made once, filled per use

_RAW, _SLOT = "\x00prerendered\x00", "\x00slot\x00"  # json.dumps writes NUL as \u0000: no text looks like these
_RAW_JSON = re.compile(r'"\\u0000prerendered\\u0000(\d+)\\u0000prerendered\\u0000"')
_SLOT_JSON = re.compile(r"\\u0000slot\\u0000(\d+)\\u0000slot\\u0000")


@dataclass(frozen=True)
class Prerendered:
    """A view (or list item) already in its JSON form, made by `Template.fill`: `to_json` writes it as it is.
    For the outbox only (adapters never see one: `from_json` reads back the view it stands for), and only for
    views whose actions all fit a button token (`walk_actions` and `notify.bind_actions` do not look inside)."""

    json: str


class Template:
    """The JSON of a view with slots for its varying strings, made once by `make` (called with markers for the
    slots) and filled per use: many similar views (a digest's list items, 30,000 at 2,000 reps) without building
    and dumping each. `fill(*values)` is what `to_json` writes for `make(*values)`, provided `make` puts each value
    into the view's strings as it is (no slicing, no case change)."""

    def __init__(self, make: Callable[..., Any], slots: int) -> None:
        made = make(*(f"{_SLOT}{i}{_SLOT}" for i in range(slots)))
        parts: list[Any] = _SLOT_JSON.split(json.dumps(_dump(made, []), ensure_ascii=False))
        parts[1::2] = [int(i) for i in parts[1::2]]
        self._parts = parts

    def fill(self, *values: str) -> Prerendered:
        escaped = [_escape(v)[1:-1] for v in values]  # as json.dumps escapes them, without the quotes
        parts = self._parts.copy()
        for i in range(1, len(parts), 2):
            parts[i] = escaped[parts[i]]
        return Prerendered("".join(parts))


def _load(obj: Any) -> Any:
    if isinstance(obj, dict) and "__t" in obj:
        cls = _TYPES[obj["__t"]]
        kwargs = {k: _load(v) for k, v in obj.items() if k != "__t"}
        return cls(**kwargs)
    if isinstance(obj, list):
        return tuple(_load(x) for x in obj)
    return obj


def to_json(r: Reply) -> str:
    raw: list[str] = []
    text = json.dumps(_dump(r, raw), ensure_ascii=False)
    return _RAW_JSON.sub(lambda m: raw[int(m[1])], text) if raw else text


def from_json(s: str) -> Reply:
    return _load(json.loads(s))


def walk_actions(r: Reply) -> list[Action]:
    """Every action in a reply (for tests and for token pre-checks), but those inside `Prerendered` items."""
    out: list[Action] = []
    for v in r.views:
        if isinstance(v, Buttons):
            out.extend(b.action for b in v.buttons)
        elif isinstance(v, Select):
            out.extend(o.action for o in v.options)
        elif isinstance(v, ListPage):
            for it in v.items:
                if type(it) is not Prerendered:  # made only when its actions fit a token
                    out.extend(b.action for b in it.buttons)
            out.extend(a for a in (v.prev, v.next) if a)
        elif isinstance(v, Confirm):
            out.extend((v.yes.action, v.no.action))
    return out
