"""Translation: every user-facing string goes through `t(lang, key, **params)`.

Catalogs are JSON files `handlers/locales/<lang>/<area>.json` (flat `key: text`), one file per area so that
features add strings without touching each other's files. English and Simplified Chinese must have the
same keys (a test checks it). Placeholders use `str.format` syntax: `"Hello {name}"`.

Enums (domain.md): `enum.<kind>.<value>` holds the label; `parse_enum(kind, text)` accepts the canonical id,
the English or the Chinese label, or an alias listed under `alias.<kind>.<value>` (comma-separated).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from handlers import inputs
from handlers.errors import InvalidInput

LANGS = ("en", "zh")
DEFAULT_LANG = "en"
_DIR = Path(__file__).parent / "locales"

ENUMS: dict[str, tuple[str, ...]] = {
    "role": ("admin", "manager", "rep", "agent", "supervisor"),
    "customer_type": ("potential", "intent", "deal", "lost"),
    "grade": ("A", "B", "C"),
    "method": ("phone", "visit", "email", "wechat", "meeting", "service"),  # service: a ticket's trace, not logged
    "feedback": ("positive", "neutral", "negative"),
    "result": ("continue", "key", "paused", "deal", "invalid"),
    "stage": ("initial", "needs", "proposal", "negotiation", "won", "lost"),
    "ticket_type": ("consult", "complaint", "suggestion", "support"),
    "emotion": ("agitated", "dissatisfied", "calm", "disappointed"),  # a complaining customer's (002 §3.3)
    "complaint_cause": ("product", "process", "attitude", "delivery", "billing", "other"),
    "priority": ("high", "medium", "low"),
    "status": ("pending", "in_progress", "resolved", "closed"),
    "queue": ("mine", "unassigned", "breaching", "open", "all"),  # /tickets QUEUE
    "scope": ("mine", "team", "all"),  # /opp list SCOPE, /followups team: whose rows
    "lang": ("en", "zh"),
    "platform": ("slack", "telegram", "console"),
}


@cache
def catalog(lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for path in sorted((_DIR / lang).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        dup = out.keys() & data.keys()
        if dup:
            raise RuntimeError(f"duplicate message keys in {path.name}: {sorted(dup)[:5]}")
        out.update(data)
    return out


class _Safe(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"



def norm_lang(lang: str | None) -> str:
    if not lang:
        return DEFAULT_LANG
    lang = lang.lower().replace("_", "-")
    if lang.startswith("zh"):
        return "zh"
    return "en" if lang.startswith("en") else DEFAULT_LANG


def t(lang: str | None, key: str, /, **params: object) -> str:
    """The message `key` in `lang`, with `params` filled in. Falls back to English, then to the key."""
    lang = norm_lang(lang)
    text = catalog(lang).get(key)
    if text is None:
        text = catalog("en").get(key, key)
    if not params:
        return text
    return text.format_map(_Safe(params))  # C speed (a digest formats ~45 strings per rep)


def has(key: str) -> bool:
    return key in catalog("en")


def enum_label(lang: str | None, kind: str, value: str | None) -> str:
    if value is None or value == "":
        return "—"
    key = f"enum.{kind}.{value}"
    return t(lang, key) if has(key) else str(value)


def enum_choices(lang: str | None, kind: str) -> list[tuple[str, str]]:
    """(label, value) pairs for a choice list."""
    return [(enum_label(lang, kind, v), v) for v in ENUMS[kind]]


def label_index(kind: str, values: Iterable[str]) -> dict[str, str]:
    """Lower-cased id, label (either language) and alias → the canonical value, for `values` of `kind`."""
    idx: dict[str, str] = {}
    for v in values:
        idx[v.lower()] = v
        for lang in LANGS:
            cat = catalog(lang)
            label = cat.get(f"enum.{kind}.{v}")
            if label:
                idx[label.lower()] = v
            for alias in cat.get(f"alias.{kind}.{v}", "").split(","):
                if alias.strip():
                    idx[alias.strip().lower()] = v
    return idx


@cache
def _enum_index(kind: str) -> dict[str, str]:
    return label_index(kind, ENUMS[kind])


def match_enum(kind: str, text: str | None) -> str | None:
    """The canonical id for `text` (id, label in either language, or alias), or None."""
    if not text:
        return None
    return _enum_index(kind).get(inputs.key(text).lower())


def parse_enum(kind: str, text: str | None, *, lang: str | None = None) -> str:
    """Like `match_enum` but raises `InvalidInput` listing the choices."""
    v = match_enum(kind, text)
    if v is None:
        choices = ", ".join(enum_label(lang, kind, x) for x in ENUMS[kind])
        raise InvalidInput("err.bad_choice", value=text or "", choices=choices)
    return v
