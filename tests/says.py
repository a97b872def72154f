"""Assert on catalog keys, not on English wording.

`says(out, "dlg.cancelled")` is true when `out` carries the rendering of that message in English (or `lang=`).
Placeholders given as keywords must render exactly (`says(out, "err.too_long", max=4000)`); the others match any
text, so a test names only the values it cares about. A change of wording in the catalog does not break a test;
showing the wrong message does.
"""

from __future__ import annotations

import re
import string
from functools import cache

from handlers.i18n import catalog, norm_lang

_fmt = string.Formatter()


@cache
def _template(lang: str, key: str) -> str:
    text = catalog(lang).get(key) or catalog("en").get(key)
    if text is None:
        raise KeyError(f"no message {key!r} in the catalog")
    return text


def pattern(key: str, /, lang: str = "en", **params: object) -> re.Pattern[str]:
    """A regex for the rendering of `key`: placeholders not in `params` match any text (not across lines)."""
    parts: list[str] = []
    for literal, field, spec, conv in _fmt.parse(_template(norm_lang(lang), key)):
        parts.append(re.escape(literal))
        if field is None:
            continue
        if field in params:
            value = _fmt.convert_field(params[field], conv)
            parts.append(re.escape(_fmt.format_field(value, spec or "")))
        else:
            parts.append(".*?")
    return re.compile("".join(parts))


def says(text: str, key: str, /, lang: str = "en", **params: object) -> bool:
    """True when `text` contains the message `key` as rendered in `lang` (with `params`, others any text)."""
    return pattern(key, lang, **params).search(text) is not None


def lead(key: str, /, lang: str = "en") -> str:
    """The text of `key` before its first placeholder: for finding a button whose label has a count in it."""
    return _template(norm_lang(lang), key).partition("{")[0]
