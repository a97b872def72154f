"""Text helpers every renderer shares: valid Unicode only, lengths and cuts in UTF-16 units.

A lone surrogate (half of a UTF-16 pair, e.g. from a JSON `"\\ud800"` escape) is not valid Unicode: it cannot be
encoded as UTF-8, so no platform can receive it and the HTTP client raises. Renderers pass every string through
`clean()` first. Telegram counts lengths in UTF-16 code units (an emoji outside the BMP is two).
"""

from __future__ import annotations

import re

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(s: str | None) -> str:
    """`s` without lone surrogates (a Python str holds a surrogate only as a lone one)."""
    return _LONE_SURROGATE.sub("", s or "")


def units(s: str) -> int:
    """Length in UTF-16 code units."""
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def cut_units(s: str, n: int, ellipsis: str = "…") -> str:
    """At most `n` UTF-16 units; a cut text ends with `ellipsis`, and a surrogate pair is never split."""
    if units(s) <= n:
        return s
    room = n - units(ellipsis)
    out, used = [], 0
    for ch in s:
        w = 2 if ord(ch) > 0xFFFF else 1
        if used + w > room:
            break
        out.append(ch)
        used += w
    return "".join(out) + ellipsis
