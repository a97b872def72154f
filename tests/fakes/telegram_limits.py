"""Bot API limits as Telegram enforces them (core.telegram.org/bots/api; shared/platforms.md §7).

Written independently of bot/telegram/render.py: the fake Bot API answers 400 with these problems, so a
renderer that breaks a limit fails its test the way it would fail in production.

- `text` (sendMessage / editMessageText): 1–4096 characters *after entity parsing*, counted in UTF-16 code
  units; a text that is only whitespace is "message text is empty".
- HTML parse mode: only the documented tags, balanced; `<`, `>` and `&` outside tags must be entities
  (`&lt; &gt; &amp; &quot;` or numeric), else "can't parse entities".
- Inline keyboard: at most 100 buttons, 8 per row (PTB `InlineKeyboardMarkupLimit`); a button's text must not be
  empty; `callback_data` 1–64 bytes. Telegram documents no length for a button's text; we hold it to 64 UTF-16
  units (what a phone can show at all) so a label cannot grow without bound.
- `answerCallbackQuery` text 0–200 characters.
- Strings must be valid Unicode: a lone surrogate cannot be encoded as UTF-8 and never reaches Telegram.
"""

from __future__ import annotations

import re
from typing import Any

MAX_TEXT = 4096
MAX_BUTTONS = 100
MAX_ROW = 8
MAX_CALLBACK = 64
MAX_BUTTON_TEXT = 64
MAX_ALERT = 200

_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "tg-emoji",
         "code", "pre", "blockquote"}
_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(\s[^<>]*)?>|&(#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]+);|[<>&]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def units(s: str) -> int:
    """UTF-16 code units, as Telegram counts (a lone surrogate counts one)."""
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def has_lone_surrogate(s: str) -> bool:
    return _SURROGATE.search(s) is not None


def parse_html(text: str) -> tuple[str, list[str]]:
    """(the text as Telegram shows it, parse problems) for HTML parse mode."""
    out: list[str] = []
    stack: list[str] = []
    problems: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        out.append(text[pos:m.start()])
        pos = m.end()
        closing, tag, entity = m.group(1), m.group(2), m.group(4)
        if tag:
            tag = tag.lower()
            if tag not in _TAGS:
                problems.append(f"can't parse entities: unsupported start tag \"{tag}\"")
            elif closing:
                if not stack or stack[-1] != tag:
                    problems.append(f"can't parse entities: unexpected end tag \"{tag}\"")
                else:
                    stack.pop()
            else:
                stack.append(tag)
        elif entity:
            if entity.startswith("#"):
                n = int(entity[2:], 16) if entity[1:2] in "xX" else int(entity[1:])
                out.append(chr(n) if 0 < n <= 0x10FFFF else "")
            elif entity in _NAMED:
                out.append(_NAMED[entity])
            else:
                problems.append(f"can't parse entities: unsupported entity \"&{entity};\"")
        else:
            problems.append(f"can't parse entities: bare {m.group(0)!r} at byte offset {m.start()}")
    out.append(text[pos:])
    if stack:
        problems.append(f"can't parse entities: unclosed tag \"{stack[-1]}\"")
    return "".join(out), problems


def text_problems(text: Any, parse_mode: str | None) -> list[str]:
    if not isinstance(text, str):
        return ["text: missing"]
    if has_lone_surrogate(text):
        return ["text: not valid UTF-8 (lone surrogate)"]
    shown, problems = parse_html(text) if (parse_mode or "").upper() == "HTML" else (text, [])
    if not shown.strip():
        problems.append("message text is empty")
    if units(shown) > MAX_TEXT:
        problems.append(f"message is too long ({units(shown)} UTF-16 units after parsing)")
    return problems


def keyboard_problems(markup: Any) -> list[str]:
    if not markup:
        return []
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list):
        return ["reply_markup: no inline_keyboard"]
    p: list[str] = []
    if sum(len(r) for r in rows) > MAX_BUTTONS:
        p.append(f"reply markup is too long ({sum(len(r) for r in rows)} buttons)")
    for i, row in enumerate(rows):
        if not row or len(row) > MAX_ROW:
            p.append(f"row {i}: {len(row)} buttons not in 1..{MAX_ROW}")
        for j, b in enumerate(row):
            label, data = b.get("text", ""), b.get("callback_data")
            if has_lone_surrogate(label) or (data and has_lone_surrogate(data)):
                p.append(f"button [{i}][{j}]: not valid UTF-8")
                continue
            if not label.strip():
                p.append(f"button [{i}][{j}]: BUTTON_TEXT_EMPTY")
            if units(label) > MAX_BUTTON_TEXT:
                p.append(f"button [{i}][{j}]: text {units(label)} units over {MAX_BUTTON_TEXT}")
            if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK:
                p.append(f"button [{i}][{j}]: BUTTON_DATA_INVALID ({len(data.encode())} bytes)")
    return p


def message_problems(params: dict) -> list[str]:
    """Problems of a sendMessage / editMessageText call (empty when Telegram would accept it)."""
    return (text_problems(params.get("text"), params.get("parse_mode"))
            + keyboard_problems(params.get("reply_markup")))


def alert_problems(text: str | None) -> list[str]:
    if text is None:
        return []
    if has_lone_surrogate(text):
        return ["callback answer: not valid UTF-8"]
    return [f"callback answer: {len(text)} characters over {MAX_ALERT}"] if len(text) > MAX_ALERT else []
