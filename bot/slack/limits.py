"""Slack's Block Kit limits (shared/platforms.md §1) and the text helpers that respect them.

Every mrkdwn string and the top-level `text` fallback go through `mrkdwn()`/`escape()`: `&`, `<` and `>` are
escaped so that nothing a user typed can ping `@channel` or forge a link. Cutting happens after escaping and
never splits an entity (`&amp;`).
"""

from __future__ import annotations

import re
from typing import Any

from bot.safe_text import clean

BLOCKS_MESSAGE = 50
BLOCKS_VIEW = 100
SECTION_TEXT = 3000
FIELD_TEXT = 2000
FIELDS = 10
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
OPTION_TEXT = 75
OPTION_VALUE = 150
OPTION_DESCRIPTION = 75
OPTIONS = 100
PLACEHOLDER = 150
LABEL = 2000
HINT = 2000
INPUT_MAX = 3000
MODAL_TITLE = 24
PRIVATE_METADATA = 3000
MESSAGE_CHARS = 11000  # undocumented cumulative ceiling: msg_blocks_too_long at about 13k characters
FALLBACK_TEXT = 3000  # Slack recommends at most 4000 for the top-level text

_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


def escape(s: str) -> str:
    """Text for mrkdwn: valid Unicode (bot.safe_text.clean), `&`, `<`, `>` escaped."""
    return clean(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(s: str) -> str:
    """Slack sends `&`, `<`, `>` escaped in slash command and message text: store what the user typed."""
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def cut(s: str, n: int) -> str:
    """At most `n` characters; a cut text ends with an ellipsis."""
    return s if len(s) <= n else s[: n - 1] + "…"


def cut_escaped(e: str, n: int) -> str:
    if len(e) <= n:
        return e
    return _PARTIAL_ENTITY.sub("", e[: n - 1]) + "…"


def mrkdwn(s: str, n: int = SECTION_TEXT) -> str:
    """User or core text for a mrkdwn field: escaped, then cut to `n`."""
    return cut_escaped(escape(s), n)


def chunks(e: str, n: int = SECTION_TEXT) -> list[str]:
    """Split escaped text into pieces of at most `n`, at a line break or space where possible."""
    out: list[str] = []
    while len(e) > n:
        at = max(e.rfind("\n", 0, n), e.rfind(" ", 0, n))
        if at < n // 2:
            at = n
        piece = e[:at]
        m = _PARTIAL_ENTITY.search(piece)
        if m and m.start() > 0:
            piece = piece[: m.start()]
        out.append(piece)
        e = e[len(piece):].lstrip("\n ") if at < n else e[len(piece):]
    if e or not out:
        out.append(e)
    return out


def plain(s: str, n: int) -> dict:
    """A plain_text object (never parsed for mentions), cut to `n` and never empty."""
    return {"type": "plain_text", "text": cut(clean(s).strip() or "·", n), "emoji": True}


def text_size(obj: Any) -> int:
    """Characters of text in a block structure (for the cumulative message ceiling; select options aside)."""
    if isinstance(obj, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else text_size(v)
                   for k, v in obj.items() if k not in ("options", "initial_option"))
    if isinstance(obj, list):
        return sum(text_size(x) for x in obj)
    return 0


def fit(blocks: list[dict], max_blocks: int, max_chars: int = MESSAGE_CHARS) -> tuple[list[dict], list[dict]]:
    """Split blocks into what fits (leaving one block for a "more" control) and the rest."""
    if len(blocks) <= max_blocks and text_size(blocks) <= max_chars:
        return blocks, []
    kept: list[dict] = []
    size = 0
    for i, b in enumerate(blocks):
        s = text_size(b)
        if kept and (len(kept) >= max_blocks - 1 or size + s > max_chars - 200):
            return kept, blocks[i:]
        kept.append(b)
        size += s
    return kept, []
