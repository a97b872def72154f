"""Natural dates for follow-ups: `parse_when("下周五下午3点", now=..., tz="Asia/Shanghai")` → aware UTC.

The ONLY place dateparser is used. Common CRM phrases are handled by rules first (dateparser gets
Chinese weekdays, half-days and "next friday 3pm" wrong or not at all), then dateparser takes the rest:

- days: today/tomorrow/day after tomorrow, 今天/明天/后天/大后天, 今晚/明早/明晚;
- weekdays: `friday`/`周五` (the next one), `next friday`/`下周五` (next calendar week), `this friday`/
  `这周五`/`本周五` (this calendar week), `下下周五`;
- end of day/EOD/下班前 18:00, next business day/下个工作日;
- half-days: 凌晨 06:00, 上午/早上 09:00, 中午 12:00, 下午 14:00, 傍晚/晚上 19:00; morning/noon/afternoon/evening;
- clock times: 3pm, 15:30, at 3, 下午3点, 3点半, 十点 (a bare hour 1-6 means the afternoon);
- relative: in 3 days, 3天后, 两周后, in 2 hours, 半小时后, next week/下周 (its Monday), next month/下个月;
- month/week ends: 月底/本月底/end of month, 下个月底/下月底/end of next month (their last day), 下月初, 中旬,
  年底, 周末/weekend and 下周末 (Saturday), end of week/end of next week (Friday), 过两天;
- dates: Dec 5, 5 December, 12月5日, 5号, 下个月5号, 2026-12-05 14:30, 2026年12月5日, 12/5 and 12.20
  (month/day: a dotted or slashed pair is always a date, read like 12月20日; `12.20 3pm` too).
- clock times are written with a colon, 点, am/pm or a half-day word (`9:30`, `9点半`, `9:30am`); `9.30` is
  30 September (when that is past, the refusal's example is `9:30`) and `13.30` (no month 13) is refused
  rather than guessed.

A date without a time gets the reminder time (09:00 local). When that day is today and the reminder time has
passed: `today`/`今天` means the next full hour; any other phrase that lands on today (`月底` on the month's last
day, `周末` on a Saturday, `12.20` on 20 December) is refused with `when.today_passed` and an example time
later today, never moved to an odd hour or a later period. A date without a year that already passed this year
means next year, unless it is within the last 60 days (then it is a mistake: `when.past`). Past or unparseable
text raises `InvalidInput` with an example that works.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.errors import InvalidInput

EXAMPLES = {"en": "next friday 3pm", "zh": "下周五下午3点"}
MAX_YEARS = 10  # how far ahead a follow-up may be

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_CN_UNITS = "点點时時天日号號周星期个個月分小礼拜年"
_CN_NUM = re.compile(rf"(?<![周期拜])([零〇一二两三四五六七八九十]+)(?=\s*[{_CN_UNITS}])")
_WD_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "1": 0, "2": 1, "3": 2,
          "4": 3, "5": 4, "6": 5, "7": 6}
_WD_EN = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_HALF = {"凌晨": 6, "上午": 9, "早上": 9, "早晨": 9, "清早": 9, "中午": 12, "下午": 14, "午后": 14, "傍晚": 19, "晚上": 19,
         "晚": 19, "morning": 9, "noon": 12, "midday": 12, "afternoon": 14, "evening": 19, "tonight": 19,
         "night": 19}
_PM_HALVES = {"下午", "午后", "傍晚", "晚上", "晚", "afternoon", "evening", "tonight", "night"}
# `12.20`, `1.15`: month.day (never a clock time, never part of 2026.12.20, 1.5 hours or 12.20.2026)
_DOTTED = r"(?<![\d.:])(\d{1,2})\.(\d{1,2})(?![\d:]|\.\d)(?!\s*(?:h|m|d|w|个|小时|分|天|周|星期|月|年|%))"
_FILLER = re.compile(r"\b(at|on|the|in|by|around|about|of|next|this)\b|[的在左右大概约,.，。、]|前后")


def cn_number(s: str) -> int:
    """`十` → 10, `二十三` → 23, `两` → 2 (up to 99)."""
    if "十" in s:
        tens, _, ones = s.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    n = 0
    for ch in s:
        n = n * 10 + _CN_DIGITS[ch]
    return n


def normalize(text: str) -> str:
    s = unicodedata.normalize("NFKC", text).strip().lower()
    s = _CN_NUM.sub(lambda m: str(cn_number(m.group(1))), s)
    s = s.replace("今晚", "今天晚上").replace("明晚", "明天晚上").replace("明早", "明天上午")
    s = re.sub(r"\bfrom today\b", "from now", s)  # "a week from today": relative, not today
    s = s.replace("半小时", "30分钟").replace("半个小时", "30分钟").replace("半个月", "15天")
    s = re.sub(r"((?:周|星期|礼拜)[一二三四五六日天1-7]|[号底末])\s*(?:之前|以前|前)$", r"\1", s)  # 周五前: by Friday
    s = re.sub(r"(\d{1,2}\s*[点:]\s*(?:\d{1,2}|半)?)\s*(?:到|至|-|~)\s*\d{1,2}\s*[点:]?\s*(?:\d{1,2}|半)?\s*$",
               r"\1", s)  # a range: its start
    s = re.sub(r"\b((?:mon|tue|wed|thu|fri|sat|sun)[a-z]*)\s+next week\b|\bnext week\s+((?:mon|tue|wed|thu|fri|sat|sun)[a-z]*)",
               lambda m: "next " + (m[1] or m[2]), s)
    return re.sub(r"\s+", " ", s)


@dataclass
class _Parts:
    day: date | None = None
    weekday: int | None = None  # a bare weekday: resolved once the time is known
    exact: datetime | None = None  # "in 2 hours": a point in time
    hour: int | None = None
    minute: int = 0
    half: str | None = None
    clash: bool = False
    said_today: bool = False  # "today"/"今天": once the reminder time passed, the next full hour

    def set_day(self, d: date) -> None:
        """A day; a second, different day is a clash (a weekday naming the same day is fine)."""
        self.clash = self.clash or (self.day is not None and self.day != d) or (
            self.weekday is not None and self.weekday != d.weekday())
        self.day = d


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    y, m = d.year + y, m + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def _month_end(today: date, add: int) -> date:
    first = _add_months(today.replace(day=1), add)
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _yearless(today: date, month: int, day: int) -> date:
    d = date(today.year, month, day)
    if d < today and (today - d).days > 60:
        d = date(today.year + 1, month, day)
    return d


class _Rules:
    """Each rule finds its pattern in the text, records what it means and removes it."""

    def __init__(self, text: str, today: date, now_local: datetime) -> None:
        self.s = text
        self.today = today
        self.now_local = now_local
        self.p = _Parts()
        self.hits = 0

    def take(self, pattern: str, fn) -> None:  # noqa: ANN001
        def repl(m: re.Match) -> str:
            fn(m)
            self.hits += 1
            return " "

        self.s = re.sub(pattern, repl, self.s)

    def monday(self, weeks: int) -> date:
        return self.today - timedelta(days=self.today.weekday()) + timedelta(weeks=weeks)

    def run(self) -> _Parts | None:
        """The parts, or None when some of the text is not understood (dateparser gets it then)."""
        for rules in (self._absolute, self._named, self._weekdays, self._relative_rules, self._clocks):
            rules(self.p, self.today)
        if self.p.clash:  # two different days or times: refused rather than guessed
            raise ValueError("clash")
        rest = _FILLER.sub(" ", self.s).strip()
        if rest or not self.hits:
            return None
        return self.p

    def _absolute(self, p: _Parts, today: date) -> None:
        self.take(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?(?:t(?=\d))?",
                  lambda m: p.set_day(date(int(m[1]), int(m[2]), int(m[3]))))
        self.take(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?", lambda m: p.set_day(_yearless(today, int(m[1]), int(m[2]))))
        mon = "|".join(_MONTHS)
        self.take(rf"\b({mon})[a-z]*\.?\s*(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s*(\d{{4}}))?",
                  lambda m: p.set_day(self._md(m[3], _MONTHS[m[1]], int(m[2]))))
        self.take(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s*(?:of\s+)?({mon})[a-z]*\.?(?:,?\s*(\d{{4}}))?",
                  lambda m: p.set_day(self._md(m[3], _MONTHS[m[2]], int(m[1]))))
        self.take(r"(?<![\d:])(\d{1,2})/(\d{1,2})(?![\d/])", lambda m: p.set_day(_yearless(today, int(m[1]), int(m[2]))))
        self.take(_DOTTED, lambda m: p.set_day(_yearless(today, int(m[1]), int(m[2]))))
        self.take(r"下个?月\s*(\d{1,2})\s*[日号]", lambda m: p.set_day(self._month_day(1, int(m[1]))))
        self.take(r"(?<![\d月])(\d{1,2})\s*[日号](?!\s*[后以之])", lambda m: p.set_day(self._month_day(0, int(m[1]))))
        self.take(r"\b(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)\b", lambda m: p.set_day(self._month_day(0, int(m[1]))))

    def _named(self, p: _Parts, today: date) -> None:
        self.take(r"下个?月[初头]|\bbeginning of next month\b",
                  lambda m: p.set_day(_add_months(today.replace(day=1), 1)))
        self.take(r"下个?月\s*(?:底|末)|\bend of (?:the )?next month\b", lambda m: p.set_day(_month_end(today, 1)))
        self.take(r"(?:本|这个?)?月\s*(?:底|末)|\bend of (?:the |this )?month\b", lambda m: p.set_day(_month_end(today, 0)))
        self.take(r"\bend of (?:the )?next week\b", lambda m: p.set_day(self.monday(1) + timedelta(days=4)))
        self.take(r"\bend of (?:the |this )?week\b", lambda m: p.set_day(self._friday()))
        self.take(r"下个?(?:周|星期)末|\bnext weekend\b", lambda m: p.set_day(self.monday(1) + timedelta(days=5)))
        self.take(r"(下个?月|本月|这个?月)?\s*(上旬|中旬|下旬|月中)",
                  lambda m: p.set_day(self._month_day(1 if (m[1] or "").startswith("下") else 0,
                                                      {"上旬": 5, "中旬": 15, "下旬": 25, "月中": 15}[m[2]])))
        self.take(r"下一?个?工作日|\bnext (?:business|working) day\b", lambda m: p.set_day(self._workday()))
        self.take(r"\b(?:end of (?:the )?day|eod)\b|之内|下班前|下班之前", lambda m: self._clock(18, 0, half="exact"))
        self.take(r"年底|年末|\bend of (?:the )?year\b", lambda m: p.set_day(date(today.year, 12, 31)))
        self.take(r"过\s*(\d+)\s*天", lambda m: p.set_day(today + timedelta(days=int(m[1]))))
        self.take(r"(?:这个?|本)?周末|\b(?:this )?weekend\b", lambda m: p.set_day(self._saturday()))
        self.take(r"大后天", lambda m: p.set_day(today + timedelta(days=3)))
        self.take(r"后天|day after tomorrow", lambda m: p.set_day(today + timedelta(days=2)))
        self.take(r"明天|明日|tomorrow|tmr", lambda m: p.set_day(today + timedelta(days=1)))
        self.take(r"今天|今日|today", lambda m: self._today())

    def _weekdays(self, p: _Parts, today: date) -> None:
        self.take(r"(下下|下个?|这个?|本|上个?)?\s*(?:周|星期|礼拜)\s*([一二三四五六日天1-7])",
                  lambda m: self._weekday(m[1] or "", _WD_ZH[m[2]]))
        self.take(r"\b(next|this|coming)?\s*(mon|tue|wed|thu|fri|sat|sun)(?:day|sday|nesday|rsday|urday|s|rs|r)?\b",
                  lambda m: self._weekday({"next": "下", "this": "这"}.get(m[1] or "", ""), _WD_EN[m[2]]))

    def _relative_rules(self, p: _Parts, today: date) -> None:
        self.take(r"(\d+)\s*个?\s*(分钟|小时|钟头|天|日|周|星期|礼拜|月)\s*(?:后|以后|之后)",
                  lambda m: self._relative(int(m[1]), m[2]))
        self.take(r"\bin\s+(\d+|an?|one)\s*(min|minute|hour|hr|day|week|month)s?\b(?:'?s? time)?",
                  lambda m: self._relative(int(m[1]) if m[1].isdigit() else 1, m[2]))
        self.take(r"\b(\d+|an?|one)\s*(min|minute|hour|hr|day|week|month)s?\s*(?:later|from now)\b",
                  lambda m: self._relative(int(m[1]) if m[1].isdigit() else 1, m[2]))
        self.take(r"下下(?:周|星期|礼拜)", lambda m: p.set_day(self.monday(2)))
        self.take(r"下(?:个)?(?:周|星期|礼拜)|\bnext week\b", lambda m: p.set_day(self.monday(1)))
        self.take(r"下个?月|\bnext month\b", lambda m: p.set_day(_add_months(today, 1)))

    def _clocks(self, p: _Parts, today: date) -> None:
        self.take(r"\b(?:at\s*)?(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)",
                  lambda m: self._clock(int(m[1]) % 12 + (12 if m[3].startswith("p") else 0), int(m[2] or 0),
                                        half="exact"))
        halves = "|".join(sorted((h for h in _HALF if not h.isascii()), key=len, reverse=True))
        self.take(rf"({halves})?\s*(\d{{1,2}})\s*[点點时時:]\s*(?:(半)|(一刻|1刻)|(\d{{1,2}})\s*分?)?",
                  lambda m: self._clock(int(m[2]), 30 if m[3] else 15 if m[4] else int(m[5] or 0), half=m[1]))
        self.take(r"\bat\s+(\d{1,2})\b", lambda m: self._clock(int(m[1]), 0, half=None))
        self.take(rf"(?:\b(this)\s+|\bin the\s+)?({halves}|\b(?:morning|noon|midday|afternoon|evening|tonight|night)\b)",
                  lambda m: self._half(m[2], today=bool(m[1])))

    # -- helpers
    def _md(self, year: str | None, month: int, day: int) -> date:
        return date(int(year), month, day) if year else _yearless(self.today, month, day)

    def _month_day(self, add: int, day: int) -> date:
        first = _add_months(self.today.replace(day=1), add)
        if add == 0 and (day < self.today.day or day > calendar.monthrange(first.year, first.month)[1]):
            first = _add_months(first, 1)  # 5号 after the 5th, 31号 in November: the next such day
        return first.replace(day=day)

    def _workday(self) -> date:
        d = self.today + timedelta(days=1)
        while d.weekday() >= 5:
            d += timedelta(days=1)
        return d

    def _friday(self) -> date:
        """End of the (work) week: this week's Friday; on a weekend, next week's."""
        return self.monday(0 if self.today.weekday() <= 4 else 1) + timedelta(days=4)

    def _today(self) -> None:
        self.p.set_day(self.today)
        self.p.said_today = True

    def _saturday(self) -> date:
        return self.today + timedelta(days=(5 - self.today.weekday()) % 7)

    def _weekday(self, prefix: str, wd: int) -> None:
        if prefix.startswith("上"):
            self.p.set_day(self.monday(-1) + timedelta(days=wd))
        elif prefix == "下下":
            self.p.set_day(self.monday(2) + timedelta(days=wd))
        elif prefix.startswith("下"):
            self.p.set_day(self.monday(1) + timedelta(days=wd))
        elif prefix.startswith(("这", "本")):
            self.p.set_day(self.monday(0) + timedelta(days=wd))
        else:  # a bare weekday; next to a date it must name the same day (12月5日星期六)
            self.p.clash = self.p.clash or self.p.weekday is not None or (
                self.p.day is not None and self.p.day.weekday() != wd)
            self.p.weekday = wd

    def _relative(self, n: int, unit: str) -> None:
        if unit in ("分钟", "min", "minute"):
            self.p.exact = self.now_local + timedelta(minutes=n)
        elif unit in ("小时", "钟头", "hour", "hr"):
            self.p.exact = self.now_local + timedelta(hours=n)
        elif unit in ("天", "日", "day"):
            self.p.set_day(self.today + timedelta(days=n))
        elif unit in ("周", "星期", "礼拜", "week"):
            self.p.set_day(self.today + timedelta(weeks=n))
        else:
            self.p.set_day(_add_months(self.today, n))

    def _clock(self, hour: int, minute: int, *, half: str | None) -> None:
        if hour > 23 or minute > 59:
            raise ValueError("no such time")  # 25:00: refused, never guessed by dateparser
        if self.p.hour is not None:
            self.p.clash = True
            return
        if half in _PM_HALVES and hour < 12 or half == "中午" and hour < 6:
            hour += 12
        elif half is None and 1 <= hour <= 6:
            hour += 12  # "3点", "at 3": office hours, the afternoon
        self.p.hour, self.p.minute = hour, minute
        self.p.half = half

    def _half(self, word: str, *, today: bool = False) -> None:
        if word == "tonight" or today:
            self.p.set_day(self.today)
        if self.p.hour is not None:
            # 下午 3点 written apart: shift to the afternoon if needed
            if word in _PM_HALVES and self.p.hour < 12 and self.p.half is None:
                self.p.hour += 12
            return
        self.p.hour, self.p.minute, self.p.half = _HALF[word], 0, word


def _zone(tz: ZoneInfo | str) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(str(tz))


def _reminder(reminder: str | time) -> time:
    if isinstance(reminder, time):
        return reminder
    h, _, m = reminder.partition(":")
    return time(int(h), int(m or 0))


def _combine(p: _Parts, now_local: datetime, tz: ZoneInfo, reminder: time) -> datetime:
    if p.exact is not None:
        return p.exact
    today = now_local.date()
    at = time(p.hour, p.minute) if p.hour is not None else None
    day = p.day
    if p.weekday is not None and day is None:
        ahead = (p.weekday - today.weekday()) % 7
        day = today + timedelta(days=ahead)
        if ahead == 0 and datetime.combine(day, at or reminder, tz) <= now_local:
            day += timedelta(days=7)
    if day is None:  # only a time: today if still ahead, else tomorrow
        day = today if datetime.combine(today, at, tz) > now_local else today + timedelta(days=1)
    if at is None:
        at = reminder
        if day == today and datetime.combine(day, at, tz) <= now_local:
            if not p.said_today:
                raise _TodayPassed  # 月底 on the last day at 11:18: not an odd hour, not next month
            return now_local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return datetime.combine(day, at, tz)


class _TodayPassed(Exception):
    """A day phrase without a time named today, and the reminder time of today has passed."""


def _clock_example(raw: str) -> str | None:
    """`9.30` refused as a past 30 September: perhaps a clock time was meant, so the example is `9:30`."""
    m = re.fullmatch(r"\s*(\d{1,2})\.(\d{2})\s*", unicodedata.normalize("NFKC", raw))
    return f"{int(m[1])}:{m[2]}" if m and int(m[1]) <= 23 and int(m[2]) <= 59 else None


def _later_today(now_local: datetime, lang: str | None) -> str:
    """An example that works: today at the next full hour (`today 13:00` / `今天13:00`)."""
    nxt = now_local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    if nxt.date() != now_local.date():
        return example(lang)
    words = {"en": f"today {nxt:%H:%M}", "zh": f"今天{nxt:%H:%M}"}
    return words.get(lang or "", f"{words['en']} / {words['zh']}")


def _dateparser(text: str, now_local: datetime, tz: ZoneInfo, reminder: time) -> datetime | None:
    import dateparser

    settings = {"RELATIVE_BASE": now_local.replace(tzinfo=None), "PREFER_DATES_FROM": "future",
                "TIMEZONE": tz.key, "RETURN_AS_TIMEZONE_AWARE": True}
    try:
        dt = dateparser.parse(text, languages=["zh", "en"], settings=settings)
    except Exception:  # noqa: BLE001 - dateparser raises assorted errors on odd input
        return None
    if dt is None:
        return None
    dt = dt.astimezone(tz)
    has_time = re.search(r"\d\s*[:点時时]|\d\s*[ap]\.?m|hour|min|小时|分钟|noon|morning|afternoon|evening", text)
    if not has_time:
        dt = datetime.combine(dt.date(), reminder, tz)
    return dt


def example(lang: str | None) -> str:
    return EXAMPLES.get(lang or "", f"{EXAMPLES['en']} / {EXAMPLES['zh']}")


def parse_when(text: str, *, now: datetime, tz: ZoneInfo | str, lang: str | None = None,
               reminder: str | time = "09:00") -> datetime:
    """A future moment from natural text in `tz`, as aware UTC. Raises `InvalidInput` (`when.past`,
    `when.today_passed`, `when.unparseable`) whose `example` parameter is a phrase that works."""
    zone = _zone(tz)
    now_local = now.astimezone(zone)
    rem = _reminder(reminder)
    raw = (text or "").strip()
    if not raw or len(raw) > 100:
        raise InvalidInput("when.unparseable", value=raw[:100], example=example(lang))
    try:
        parts = _Rules(normalize(raw), now_local.date(), now_local).run()
        dt = _combine(parts, now_local, zone, rem) if parts is not None else None
        if dt is None:
            dt = _dateparser(raw, now_local, zone, rem)
    except (ValueError, OverflowError):  # 2月30日, 25点, 12/45, in 999999999 days, jan 1 0001: refused
        raise InvalidInput("when.unparseable", value=raw, example=example(lang)) from None
    except _TodayPassed:
        raise InvalidInput("when.today_passed", value=raw, time=f"{rem:%H:%M}",
                           example=_later_today(now_local, lang)) from None
    if dt is None:
        raise InvalidInput("when.unparseable", value=raw, example=example(lang))
    if dt <= now:
        raise InvalidInput("when.past", value=raw, example=_clock_example(raw) or example(lang))
    if dt.year > now.year + MAX_YEARS:  # 9999年12月5日, 5000周后: surely a typo
        raise InvalidInput("when.unparseable", value=raw, example=example(lang))
    return dt.astimezone(ZoneInfo("UTC"))


def parse_day(text: str, *, now: datetime, tz: ZoneInfo | str, lang: str | None = None) -> datetime:
    """A calendar day, past or future (history filters): local midnight as aware UTC. Year-less dates
    mean the latest such day not after today. Raises `InvalidInput("when.bad_day")`."""
    zone = _zone(tz)
    today = now.astimezone(zone).date()
    s = normalize(text or "")
    d: date | None = None
    try:
        if m := re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?", s):
            d = date(int(m[1]), int(m[2]), int(m[3]))
        elif m := re.fullmatch(r"(\d{1,2})\s*(?:[-/]|月)\s*(\d{1,2})\s*[日号]?", s):
            d = date(today.year, int(m[1]), int(m[2]))
            if d > today:
                d = date(today.year - 1, int(m[1]), int(m[2]))
        elif s in ("today", "今天"):
            d = today
        elif s in ("yesterday", "昨天"):
            d = today - timedelta(days=1)
        elif m := re.fullmatch(r"(\d+)\s*(?:d|days? ago|天前)", s):
            d = today - timedelta(days=int(m[1]))
        if d is not None:  # 0001-01-01 at midnight in Shanghai is before the first UTC day: refused too
            return datetime.combine(d, time(0, 0), zone).astimezone(ZoneInfo("UTC"))
    except (ValueError, OverflowError):
        pass
    raise InvalidInput("when.bad_day", value=text, example="2026-11-01")


def parse_future_day(text: str, *, now: datetime, tz: ZoneInfo | str, lang: str | None = None) -> datetime:
    """A calendar day from today on (an expected close date), as local midnight in aware UTC: read like
    `parse_when`, except that a day phrase naming today (`月底` on the month's last day) is simply today."""
    zone = _zone(tz)
    try:
        when = parse_when(text, now=now, tz=zone, lang=lang)
    except InvalidInput as e:
        if e.key != "when.today_passed":
            raise
        when = now
    return datetime.combine(when.astimezone(zone).date(), time(0, 0), zone).astimezone(ZoneInfo("UTC"))
