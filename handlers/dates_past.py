"""When a call already happened (跟进日期): `parse_past("昨天下午4点", now=..., tz=...)` → aware UTC, not after now.

Built on the two public parsers of `handlers.dates`: the longest leading part `parse_day` reads is the day
(`yesterday`, `昨天`, `3 days ago`, `11-20`, `2026-11-20`); the rest is a clock time or half-day (`4pm`,
`下午4点`, `14:30`, `上午`) read by `parse_when` from that day's first minute, and must land on that same day.
Without a day the time is today's (`10am`); without a time the day's noon (today: now). A moment after now is
refused (`fu.date_future`): a follow-up records a call already made.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.dates import parse_day, parse_when
from handlers.errors import InvalidInput

EXAMPLES = {"en": "yesterday 4pm", "zh": "昨天下午4点"}
NOON = time(12, 0)


def example(lang: str | None) -> str:
    return EXAMPLES.get(lang or "", f"{EXAMPLES['en']} / {EXAMPLES['zh']}")


def _split_day(raw: str, *, now: datetime, tz: ZoneInfo, lang: str | None) -> tuple[datetime | None, str]:
    """(local midnight of the longest leading day phrase, the rest) or (None, raw)."""
    for i in range(len(raw), 0, -1):
        if i < len(raw) and raw[i - 1].isascii() and raw[i].isascii() and not raw[i].isspace():
            continue  # inside an ASCII word: `11-2` of `11-20` is no split
        try:
            day = parse_day(raw[:i].strip(), now=now, tz=tz, lang=lang)
        except InvalidInput:
            continue
        return day.astimezone(tz), raw[i:].strip()
    return None, raw


def _clock(rest: str, day: datetime, *, tz: ZoneInfo, lang: str | None) -> datetime | None:
    """`rest` read as a time of `day`, or None when it is not one (it names another day)."""
    try:
        at = parse_when(rest, now=day + timedelta(minutes=1), tz=tz, lang=lang, reminder=NOON)
    except InvalidInput:
        return None
    at = at.astimezone(tz)
    return at if at.date() == day.date() else None


def _is_future(raw: str, *, now: datetime, tz: ZoneInfo, lang: str | None) -> bool:
    """`tomorrow`, `next friday`: a moment to come, not a call made."""
    try:
        parse_when(raw, now=now, tz=tz, lang=lang)
    except InvalidInput:
        return False
    return True


def parse_past(text: str, *, now: datetime, tz: ZoneInfo | str, lang: str | None = None) -> datetime:
    """A moment at or before `now` from natural text in `tz`, as aware UTC. Raises `InvalidInput`."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(str(tz))
    raw = " ".join((text or "").split())
    if not raw or len(raw) > 60:
        raise InvalidInput("fu.date_unparseable", value=raw[:60], example=example(lang))
    local_now = now.astimezone(zone)
    day, rest = _split_day(raw, now=now, tz=zone, lang=lang)
    if day is None:
        day = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    if not rest:
        at = min(datetime.combine(day.date(), NOON, zone), local_now)
    else:
        at = _clock(rest, day, tz=zone, lang=lang)
    if at is None and _is_future(raw, now=now, tz=zone, lang=lang):
        raise InvalidInput("fu.date_future", value=raw, example=example(lang))
    if at is None:
        raise InvalidInput("fu.date_unparseable", value=raw, example=example(lang))
    if at > local_now:
        raise InvalidInput("fu.date_future", value=raw, example=example(lang))
    return at.astimezone(ZoneInfo("UTC"))
