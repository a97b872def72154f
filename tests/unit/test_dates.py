"""The natural-date table: each phrase → the exact local date and time, with `now` fixed at
Monday 2026-11-23 10:00 Asia/Shanghai (02:00 UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from handlers.dates import parse_day, parse_when
from handlers.errors import InvalidInput

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
SH = "Asia/Shanghai"

TABLE = [
    # English
    ("today", "2026-11-23 11:00"),  # date only, 09:00 already passed: the next full hour
    ("tomorrow", "2026-11-24 09:00"),
    ("day after tomorrow", "2026-11-25 09:00"),
    ("tomorrow morning", "2026-11-24 09:00"),
    ("tomorrow 3pm", "2026-11-24 15:00"),
    ("tomorrow at 10", "2026-11-24 10:00"),
    ("tomorrow 9:30am", "2026-11-24 09:30"),
    ("tonight", "2026-11-23 19:00"),
    ("this afternoon", "2026-11-23 14:00"),
    ("friday", "2026-11-27 09:00"),
    ("Friday at 9am", "2026-11-27 09:00"),
    ("this friday", "2026-11-27 09:00"),
    ("next friday", "2026-12-04 09:00"),
    ("next friday 3pm", "2026-12-04 15:00"),
    ("friday afternoon", "2026-11-27 14:00"),
    ("monday morning", "2026-11-30 09:00"),
    ("mon 10am", "2026-11-30 10:00"),
    ("next tuesday at 2:30pm", "2026-12-01 14:30"),
    ("next thursday evening", "2026-12-03 19:00"),
    ("3pm", "2026-11-23 15:00"),
    ("15:30", "2026-11-23 15:30"),
    ("at 3", "2026-11-23 15:00"),
    ("in 3 days", "2026-11-26 09:00"),
    ("in 2 weeks", "2026-12-07 09:00"),
    ("in a week", "2026-11-30 09:00"),
    ("3 weeks from now", "2026-12-14 09:00"),
    ("a week from today", "2026-11-30 09:00"),
    ("in 2 hours", "2026-11-23 12:00"),
    ("in 30 minutes", "2026-11-23 10:30"),
    ("next week", "2026-11-30 09:00"),
    ("next month", "2026-12-23 09:00"),
    ("end of month", "2026-11-30 09:00"),
    ("this weekend", "2026-11-28 09:00"),
    ("Dec 5", "2026-12-05 09:00"),
    ("December 5th", "2026-12-05 09:00"),
    ("5 dec", "2026-12-05 09:00"),
    ("Dec. 5th at 3pm", "2026-12-05 15:00"),
    ("Dec 5 2027", "2027-12-05 09:00"),
    ("2026-12-05", "2026-12-05 09:00"),
    ("2026-12-05 14:30", "2026-12-05 14:30"),
    ("2026/12/05", "2026-12-05 09:00"),
    ("12/5", "2026-12-05 09:00"),
    ("Jan 10", "2027-01-10 09:00"),
    ("the 5th at 3pm", "2026-12-05 15:00"),
    ("thursday next week", "2026-12-03 09:00"),
    ("friday next week 3pm", "2026-12-04 15:00"),
    ("in 5 days time", "2026-11-28 09:00"),
    ("2 days", "2026-11-25 09:00"),  # dateparser
    ("3 weeks", "2026-12-14 09:00"),  # dateparser
    ("11/30/2026", "2026-11-30 09:00"),  # dateparser
    ("12.20", "2026-12-20 09:00"),  # a dotted month.day is a date, never a clock time
    ("1.15", "2027-01-15 09:00"),
    ("12.20 3pm", "2026-12-20 15:00"),
    ("12.5", "2026-12-05 09:00"),
    ("12.20.", "2026-12-20 09:00"),  # a full stop after it
    ("12.20.2026", "2026-12-20 09:00"),
    ("in 1.5 hours", "2026-11-23 11:30"),  # a decimal before a unit is not a date
    ("end of next month", "2026-12-31 09:00"),  # the /opp add prompt's own example
    ("end of this month", "2026-11-30 09:00"),
    ("end of week", "2026-11-27 09:00"),  # the work week: Friday
    ("end of this week", "2026-11-27 09:00"),
    ("end of next week", "2026-12-04 09:00"),
    ("next business day", "2026-11-24 09:00"),
    ("end of day", "2026-11-23 18:00"),
    ("EOD", "2026-11-23 18:00"),
    ("14:00-15:00", "2026-11-23 14:00"),
    # Chinese
    ("今天下午", "2026-11-23 14:00"),
    ("今晚", "2026-11-23 19:00"),
    ("明天", "2026-11-24 09:00"),
    ("明早", "2026-11-24 09:00"),
    ("明天下午3点", "2026-11-24 15:00"),
    ("明天十点", "2026-11-24 10:00"),
    ("明天早上八点半", "2026-11-24 08:30"),
    ("明晚8点", "2026-11-24 20:00"),
    ("后天", "2026-11-25 09:00"),
    ("大后天", "2026-11-26 09:00"),
    ("周五", "2026-11-27 09:00"),
    ("这周五", "2026-11-27 09:00"),
    ("本周五", "2026-11-27 09:00"),
    ("下周五", "2026-12-04 09:00"),
    ("下周五下午3点", "2026-12-04 15:00"),
    ("下周五晚上7点半", "2026-12-04 19:30"),
    ("周一上午", "2026-11-30 09:00"),  # Monday 09:00 today has passed: next Monday
    ("星期三下午3点", "2026-11-25 15:00"),
    ("礼拜五下午", "2026-11-27 14:00"),
    ("下星期二", "2026-12-01 09:00"),
    ("下周三上午十点", "2026-12-02 10:00"),
    ("下周一早上8点", "2026-11-30 08:00"),
    ("下周四14:00", "2026-12-03 14:00"),
    ("下下周一", "2026-12-07 09:00"),
    ("周日", "2026-11-29 09:00"),
    ("星期天上午10点", "2026-11-29 10:00"),
    ("周五中午12点", "2026-11-27 12:00"),
    ("下午3点", "2026-11-23 15:00"),
    ("下午两点", "2026-11-23 14:00"),
    ("中午", "2026-11-23 12:00"),
    ("中午1点", "2026-11-23 13:00"),
    ("傍晚", "2026-11-23 19:00"),
    ("3点半", "2026-11-23 15:30"),
    ("3点15分", "2026-11-23 15:15"),
    ("十点", "2026-11-24 10:00"),  # 10:00 today is now: tomorrow
    ("3天后", "2026-11-26 09:00"),
    ("三天后", "2026-11-26 09:00"),
    ("十天后", "2026-12-03 09:00"),
    ("一周后", "2026-11-30 09:00"),
    ("两周后", "2026-12-07 09:00"),
    ("一个月后", "2026-12-23 09:00"),
    ("2小时后", "2026-11-23 12:00"),
    ("半小时后", "2026-11-23 10:30"),
    ("下周", "2026-11-30 09:00"),
    ("下个月", "2026-12-23 09:00"),
    ("月底", "2026-11-30 09:00"),
    ("本月底", "2026-11-30 09:00"),
    ("下个月底", "2026-12-31 09:00"),
    ("下月底", "2026-12-31 09:00"),
    ("下月末", "2026-12-31 09:00"),
    ("下月初", "2026-12-01 09:00"),
    ("周末", "2026-11-28 09:00"),
    ("12月5日", "2026-12-05 09:00"),
    ("12月5号 15:00", "2026-12-05 15:00"),
    ("12月5日下午2点", "2026-12-05 14:00"),
    ("十二月五日", "2026-12-05 09:00"),
    ("2026年12月5日", "2026-12-05 09:00"),
    ("下个月5号", "2026-12-05 09:00"),
    ("5号", "2026-12-05 09:00"),
    ("30号", "2026-11-30 09:00"),
    ("31号", "2026-12-31 09:00"),  # November has no 31st: the next month that has one
    ("2026-12-05 14:30", "2026-12-05 14:30"),
    ("下周五 3pm", "2026-12-04 15:00"),
    ("１２月５日", "2026-12-05 09:00"),  # full-width digits
    ("12月5日星期六", "2026-12-05 09:00"),  # a weekday that agrees with the date
    ("下周末", "2026-12-05 09:00"),
    ("过两天", "2026-11-25 09:00"),
    ("年底", "2026-12-31 09:00"),
    ("下个月中旬", "2026-12-15 09:00"),
    ("一个星期以后", "2026-11-30 09:00"),
    ("两天后上午", "2026-11-25 09:00"),
    ("周五前", "2026-11-27 09:00"),
    ("星期三之前", "2026-11-25 09:00"),
    ("月底前", "2026-11-30 09:00"),
    ("月中", "2026-12-15 09:00"),
    ("凌晨3点", "2026-11-24 03:00"),
    ("明天上午10点到11点", "2026-11-24 10:00"),  # a range: its start
    ("下个工作日", "2026-11-24 09:00"),
    ("今天下班前", "2026-11-23 18:00"),
    ("今天之内", "2026-11-23 18:00"),
    ("明天下班前", "2026-11-24 18:00"),
]


def local(dt: datetime, tz: str = SH) -> str:
    return dt.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def test_dates_table_is_big_and_bilingual() -> None:
    zh = [p for p, _ in TABLE if not p.isascii()]
    assert len(TABLE) >= 40 and len(zh) >= len(TABLE) * 0.45


@pytest.mark.parametrize(("phrase", "expected"), TABLE)
def test_dates_phrase(phrase: str, expected: str) -> None:
    dt = parse_when(phrase, now=NOW, tz=SH)
    assert dt.tzinfo is not None and dt.utcoffset().total_seconds() == 0
    assert local(dt) == expected


@pytest.mark.parametrize(("phrase", "expected"), [
    # New York: now is Sunday 2026-11-22 21:00 (EST)
    ("tomorrow", "2026-11-23 09:00"),
    ("friday 3pm", "2026-11-27 15:00"),
    ("明天下午3点", "2026-11-23 15:00"),
    ("下周一", "2026-11-23 09:00"),  # Sunday: "next week" starts tomorrow
    ("in 2 hours", "2026-11-22 23:00"),
    ("today", "2026-11-22 22:00"),
])
def test_dates_other_zone(phrase: str, expected: str) -> None:
    assert local(parse_when(phrase, now=NOW, tz="America/New_York"), "America/New_York") == expected


def test_dates_dst_change_keeps_local_time() -> None:
    # London leaves summer time on 2026-10-25: 09:00 local is 08:00 UTC before and 09:00 UTC after
    now = datetime(2026, 10, 22, 12, 0, tzinfo=UTC)
    dt = parse_when("next monday", now=now, tz="Europe/London")
    assert local(dt, "Europe/London") == "2026-10-26 09:00" and dt.hour == 9


def test_dates_reminder_time_is_used_for_dates_without_time() -> None:
    assert local(parse_when("tomorrow", now=NOW, tz=SH, reminder="08:30")) == "2026-11-24 08:30"


@pytest.mark.parametrize("phrase", ["yesterday", "昨天", "今天上午", "11月20日", "2025-01-01", "上周五",
                                    "this morning"])
def test_dates_past_is_refused_with_example(phrase: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_when(phrase, now=NOW, tz=SH, lang="zh")
    assert e.value.key == "when.past"
    assert parse_when(e.value.params["example"], now=NOW, tz=SH) > NOW  # the example works


LAST_DAY = datetime(2026, 11, 30, 3, 18, tzinfo=UTC)  # Monday 30 November, 11:18 in Shanghai


@pytest.mark.parametrize("phrase", ["月底", "end of month", "本月底", "月底前", "30号", "11.30", "11月30日"])
def test_dates_day_phrase_on_today_after_the_reminder_is_refused(phrase: str) -> None:
    """`月底` on the month's last day at 11:18: neither today 12:00 nor next month, but a clear refusal whose
    example (today at the next full hour) works."""
    with pytest.raises(InvalidInput) as e:
        parse_when(phrase, now=LAST_DAY, tz=SH, lang="zh")
    assert e.value.key == "when.today_passed" and e.value.params["time"] == "09:00"
    assert e.value.params["example"] == "今天12:00"
    assert local(parse_when(e.value.params["example"], now=LAST_DAY, tz=SH)) == "2026-11-30 12:00"


def test_dates_day_phrase_on_today_before_the_reminder_is_the_reminder_time() -> None:
    early = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)  # 30 November, 07:00 in Shanghai
    assert local(parse_when("月底", now=early, tz=SH)) == "2026-11-30 09:00"
    assert local(parse_when("end of month", now=early, tz=SH, reminder="08:30")) == "2026-11-30 08:30"


def test_dates_today_after_the_reminder_is_the_next_full_hour() -> None:
    assert local(parse_when("today", now=LAST_DAY, tz=SH)) == "2026-11-30 12:00"
    assert local(parse_when("今天", now=LAST_DAY, tz=SH)) == "2026-11-30 12:00"
    assert local(parse_when("下个月底", now=LAST_DAY, tz=SH)) == "2026-12-31 09:00"


def test_dates_dotted_pair_is_a_date_and_clock_times_use_a_colon() -> None:
    assert local(parse_when("9.30", now=LAST_DAY, tz=SH)) == "2027-09-30 09:00"  # 30 September
    assert local(parse_when("9:30", now=LAST_DAY, tz=SH)) == "2026-12-01 09:30"
    with pytest.raises(InvalidInput) as e:
        parse_when("13.30", now=LAST_DAY, tz=SH)  # no month 13: refused, not guessed as a clock time
    assert e.value.key == "when.unparseable"
    with pytest.raises(InvalidInput) as e:
        parse_when("9.30", now=NOW, tz=SH)  # 30 September, 54 days ago: past, and the example is the clock form
    assert e.value.key == "when.past" and e.value.params["example"] == "9:30"
    assert local(parse_when("9:30", now=NOW, tz=SH)) == "2026-11-24 09:30"


# known gaps (refused, with an example): vague or two-choice phrases
@pytest.mark.parametrize("phrase", ["blah", "", "回头再说", "asap-ish", "2月30日", "25点", "x" * 200,
                                    "12月5日星期五", "尽快", "晚点", "下周二或周三",
                                    "tomorrow 25:00", "tomorrow 10:75", "2026-13-01", "12/45",
                                    "tomorrow 3pm 4pm", "明天 后天", "in 999999999 days", "99999999天后",
                                    "in 99999999999999999999 hours", "9999年12月5日", "5000周后"])
def test_dates_unparseable_is_refused_with_example(phrase: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_when(phrase, now=NOW, tz=SH, lang="en")
    assert e.value.key == "when.unparseable"
    assert parse_when(e.value.params["example"], now=NOW, tz=SH) > NOW


def test_dates_example_without_lang_offers_both() -> None:
    with pytest.raises(InvalidInput) as e:
        parse_when("blah", now=NOW, tz=SH)
    assert "next friday" in e.value.params["example"] and "下周五" in e.value.params["example"]


@pytest.mark.parametrize(("phrase", "expected"), [
    ("2026-11-01", "2026-11-01 00:00"), ("11/1", "2026-11-01 00:00"), ("11月1日", "2026-11-01 00:00"),
    ("12月30日", "2025-12-30 00:00"), ("yesterday", "2026-11-22 00:00"), ("7d", "2026-11-16 00:00"),
])
def test_dates_parse_day_allows_the_past(phrase: str, expected: str) -> None:
    assert local(parse_day(phrase, now=NOW, tz=SH)) == expected


@pytest.mark.parametrize("phrase", ["someday", "99999999d", "0000-01-01"])
def test_dates_parse_day_refuses_garbage(phrase) -> None:
    with pytest.raises(InvalidInput):
        parse_day(phrase, now=NOW, tz=SH)
