"""What users type, made safe where it enters the core: one cleaning, one key normalisation, one id parser.

- `clean(text)`: for every inbound text (the router applies it to text, form values and display names; the
  services that store names and codes apply it again for the paths that bypass the router, such as imports).
  It removes NUL and other control characters (PostgreSQL refuses NUL in text), zero-width characters and
  bidirectional controls (U+202E would reverse how a name reads; U+200B makes `ABC2026004` unfindable), and
  replaces lone surrogates (they cannot be encoded) with U+FFFD. The zero-width joiner stays inside emoji
  sequences (👩‍💻), where it is part of the character.
- `key(text)`: codes, verbs, enum words and `key=` names: `clean` + NFKC (full-width `ＡＢＣ２０２６００４` is
  `ABC2026004`) + trimmed. Free text (notes, descriptions, names) keeps its characters: only `clean`.
- `parse_id(text)`: a row id or another whole number typed by a user: ASCII digits (full-width digits are
  read as such) within the range every database column holds. `'²'.isdigit()` is true; `parse_id('²')` is None.
"""

from __future__ import annotations

import re
import unicodedata

# The smallest integer column the schema uses (PostgreSQL INTEGER, SQLite accepts more).
MAX_ID = 2**31 - 1

_EMOJI = "\U0001f000-\U0001faff\u2600-\u27bf\ufe0f\u200d"
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # control characters except tab, newline, carriage return
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e"  # soft hyphen, invisible fillers, Arabic letter mark
    "\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u206f"  # zero-width, marks, embeddings, isolates
    "\u3164\ufeff\uffa0\ufff9-\ufffb]"
    f"|(?<![{_EMOJI}])\u200d|\u200d(?![{_EMOJI}])"  # a zero-width joiner outside an emoji sequence
)
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_ID = re.compile(r"[0-9]+")


def clean(text: str) -> str:
    """`text` without invisible or unstorable characters (see the module docstring)."""
    if not text:
        return text
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        # a pair written as two halves becomes its character; a lone half becomes U+FFFD
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return _INVISIBLE.sub("", text)


def key(text: str | None) -> str:
    """A code or keyword as it is compared: cleaned, NFKC-normalised and trimmed."""
    return unicodedata.normalize("NFKC", clean(text or "")).strip()


def parse_id(text: str | None, *, lo: int = 1, hi: int = MAX_ID) -> int | None:
    """The whole number in `text` when it is one (ASCII or full-width digits) within [lo, hi], else None."""
    s = clean(text or "").strip().translate(_FULLWIDTH_DIGITS)
    if not _ID.fullmatch(s) or len(s.lstrip("0")) > 19:
        return None
    n = int(s)
    return n if lo <= n <= hi else None


def is_id(text: str | None) -> bool:
    """True when `text` looks like a whole number (ASCII or full-width digits), in range or not."""
    return bool(_ID.fullmatch(clean(text or "").strip().translate(_FULLWIDTH_DIGITS)))
