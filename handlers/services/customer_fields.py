"""Parsing what users type for customer and opportunity fields: `key=value` arguments and validators.

Every validator has the dialog-step signature `(ctx, text, values) -> stored value` and raises
`InvalidInput` with a message key that says what is wrong, so the one-line commands, the guided dialogs and
the forms all validate the same way.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from handlers import dates, inputs
from handlers.context import Ctx
from handlers.errors import InvalidInput
from handlers.i18n import enum_label, label_index, parse_enum
from handlers.lookup import find_staff

_CLOSE = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "”": "”"}
_TAG_SPLIT = re.compile(r"[,，、;；]+")
_LANDLINE = re.compile(r"^0[1-9]\d{8,10}$")  # 0 + area code (2–3 digits) + 7–8 digits
_MOBILE = re.compile(r"^1\d{10}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def words(text: str) -> list[str]:
    """Split on whitespace; a quote ("…", '…', “…”, ‘…’, 「…」) opens only at the start of a word or right
    after `=`, so apostrophes and quotes inside text are kept as typed (`O'Brien's shop`)."""
    out: list[str] = []
    buf: str | None = None
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            if buf is not None:
                out.append(buf)
                buf = None
            i += 1
            continue
        if ch in _CLOSE and (buf is None or buf.endswith(("=", "＝"))):
            j = text.find(_CLOSE[ch], i + 1)
            if j == -1 and ch == "“":
                j = text.find('"', i + 1)
            if j != -1:
                buf = (buf or "") + text[i + 1:j]
                i = j + 1
                continue
        buf = (buf or "") + ch
        i += 1
    if buf is not None:
        out.append(buf)
    return out


def split_args(text: str, keys: dict[str, str], *, glue: bool = False) -> tuple[list[str], dict[str, str]]:
    """Split into positional words and `key=value` pairs (see `words` for quoting).

    `keys` maps every accepted key spelling (`phone`, `电话`) to its canonical name; other words, including
    unknown `x=y`, stay positional. With `glue`, words after a `key=value` continue that value
    (`notes=call back next week`); only the words before the first pair are positional.
    """
    pos: list[str] = []
    kv: dict[str, str] = {}
    last: str | None = None
    for w in words(text or ""):
        m = re.match(r"^([^=＝]+)[=＝](.*)$", w, re.S)
        canon = keys.get(inputs.key(m.group(1)).lower()) if m else None
        if canon:
            kv[canon] = m.group(2).strip()
            last = canon
        elif glue and last is not None:
            kv[last] = f"{kv[last]} {w}".strip()
        else:
            pos.append(w)
    return pos, kv


def quote(value: object) -> str:
    """A value as one `words` word (round-trips unless it holds whitespace and both kinds of quotes)."""
    v = str(value)
    if v and not any(c.isspace() for c in v) and v[0] not in _CLOSE:
        return v
    return f'"{v}"' if '"' not in v else f"'{v}'"


# ---------------------------------------------------------------- validators (dialog-step signature)


def parse_text(max_len: int):  # noqa: ANN201
    def parse(ctx: Ctx, text: str, values: dict) -> str:
        t = inputs.clean(text or "").strip()  # also for values that did not come through the router
        if not t:
            raise InvalidInput("dlg.required")
        if len(t) > max_len:
            raise InvalidInput("err.too_long", max=max_len)
        return t

    return parse


parse_name = parse_text(200)


def industry_index(ctx: Ctx) -> dict[str, str]:
    return label_index("industry", ctx.settings.industries)


def parse_industry(ctx: Ctx, text: str, values: dict | None = None) -> str:
    """An industry by id or label in either language; a Chinese label with or without its 业 (零售 = 零售业,
    金融业 = 金融), as spreadsheets write them."""
    key, index = inputs.key(text).lower(), industry_index(ctx)
    v = index.get(key) or index.get(key + "业") or (index.get(key[:-1]) if key.endswith("业") else None)
    if v is None:
        raise InvalidInput("cust.err.industry", value=text, choices=", ".join(
            enum_label(ctx.lang, "industry", i) for i in ctx.settings.industries))
    return v


def industry_choices(ctx: Ctx, values: dict | None = None) -> list[tuple[str, str]]:
    return [(enum_label(ctx.lang, "industry", i), i) for i in ctx.settings.industries]


def parse_type(ctx: Ctx, text: str, values: dict | None = None) -> str:
    return parse_enum("customer_type", text, lang=ctx.lang)


def parse_phone(ctx: Ctx, text: str, values: dict | None = None) -> str:
    p = re.sub(r"[\s\-().]", "", text or "")
    if p.startswith("+86") and _MOBILE.match(p[3:]):
        p = p[3:]
    if _LANDLINE.match(p):  # a mainland landline as written locally (0571-88888888): stored in E.164
        p = "+86" + p[1:]
    if _MOBILE.match(p) or _E164.match(p):
        return p
    raise InvalidInput("cust.err.phone", value=text)


def parse_email(ctx: Ctx, text: str, values: dict | None = None) -> str:
    e = (text or "").strip()
    if not _EMAIL.match(e) or len(e) > 200:
        raise InvalidInput("cust.err.email", value=text)
    return e


def parse_tags(ctx: Ctx, text: str, values: dict | None = None) -> list[str]:
    tags = []
    for tag in _TAG_SPLIT.split(text or ""):
        tag = tag.strip().lstrip("#")
        if not tag:
            continue
        if len(tag) > 50:
            raise InvalidInput("cust.err.tag", value=tag[:60])
        if tag not in tags:
            tags.append(tag)
    return tags


def parse_grade(ctx: Ctx, text: str, values: dict | None = None) -> str:
    if (text or "").strip().lower() in ("auto", "自动"):
        return "auto"
    return parse_enum("grade", (text or "").strip().upper(), lang=ctx.lang)


def parse_owner(ctx: Ctx, text: str, values: dict | None = None) -> int:
    return find_staff(ctx, text).id  # type: ignore[return-value]


# ---------------------------------------------------------------- amounts and dates

_AMOUNT = re.compile(r"^([0-9][0-9,]*(?:\.[0-9]+)?)\s*(万|w|k|千|m|百万|亿)?$", re.I)
_MULT = {None: 1, "万": 10_000, "w": 10_000, "k": 1_000, "千": 1_000, "m": 1_000_000, "百万": 1_000_000,
         "亿": 100_000_000}


def parse_amount(ctx: Ctx, text: str, values: dict | None = None) -> str:
    """`580000`, `58万`, `580k`, `¥580,000.50` → a decimal string (yuan). Must be positive."""
    s = (text or "").strip().replace("¥", "").replace("￥", "").replace("元", "").replace(" ", "")
    m = _AMOUNT.match(s)
    if not m:
        raise InvalidInput("cust.err.amount", value=text)
    try:
        n = Decimal(m.group(1).replace(",", "")) * _MULT[m.group(2) and m.group(2).lower()]
    except (InvalidOperation, KeyError):
        raise InvalidInput("cust.err.amount", value=text) from None
    if n >= Decimal("1e12") or (n := n.quantize(Decimal("0.01"))) <= 0:  # rounded, 0.001 is no amount
        raise InvalidInput("cust.err.amount", value=text)
    return str(n)


_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_MD = re.compile(r"^(\d{1,2})月(\d{1,2})[日号]?$")
_REL = {"today": 0, "今天": 0, "yesterday": -1, "昨天": -1, "前天": -2, "tomorrow": 1, "明天": 1}


def _local_date(ctx: Ctx, text: str, *, past: bool) -> date | None:
    s = text.strip().lower()
    today = ctx.now.astimezone(ctx.tz).date()
    if s in _REL:
        return today + timedelta(days=_REL[s])
    m = _ISO.match(s)
    if m:
        try:
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise InvalidInput("cust.err.date", value=text) from None
        return _in_range(d, text, today)
    m = _MD.match(s)
    if m:
        try:
            return dates.yearless(today, int(m.group(1)), int(m.group(2)), lean="past" if past else "future")
        except ValueError:  # 2月30日, or 2月29日 in a year without one
            raise InvalidInput("cust.err.date", value=text) from None
    return None


def looks_like_date(text: str) -> bool:
    s = text.strip().lower()
    return s in _REL or bool(_ISO.match(s) or _MD.match(s))


def parse_date(ctx: Ctx, text: str, *, past: bool = False) -> date:
    """A local date from what the user typed.

    Unambiguous forms (ISO `2026-12-05`, today/yesterday/昨天, `12月5日`) are read here, so the commands work
    on their own; natural phrases go to `handlers.dates`: `parse_day` for past-or-future days (purchases),
    `parse_when` for future moments (expected close dates).
    """
    d = _local_date(ctx, text, past=past)
    if d is not None:
        return d
    when: datetime = (dates.parse_day if past else dates.parse_future_day)(text, now=ctx.now, tz=ctx.tz, lang=ctx.lang)
    return _in_range(when.astimezone(ctx.tz).date(), text, ctx.now.astimezone(ctx.tz).date())


def _in_range(d: date, text: str, today: date) -> date:
    if not 1900 <= d.year <= today.year + 100:  # 0001-01-01, 9999年12月31日: a typo, not a purchase or a close
        raise InvalidInput("cust.err.date", value=text)
    return d


def parse_close_date(ctx: Ctx, text: str, values: dict | None = None) -> str:
    d = parse_date(ctx, text)
    if d < ctx.now.astimezone(ctx.tz).date():
        raise InvalidInput("opp.err.close_past", value=text)
    return d.isoformat()


_parse_date = parse_date  # the old private name (tests)
