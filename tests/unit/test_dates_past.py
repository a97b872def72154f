"""parse_past: when a call already happened (跟进日期), read with the public parsers of handlers.dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handlers.dates_past import parse_past
from handlers.errors import InvalidInput

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Asia/Shanghai


def sh(d: int, h: int, mi: int = 0) -> datetime:
    return datetime(2026, 11, d, h, mi, tzinfo=UTC) - timedelta(hours=8)


@pytest.mark.parametrize("text, want", [
    ("yesterday 4pm", sh(22, 16)), ("昨天下午4点", sh(22, 16)), ("昨天 下午4点", sh(22, 16)),
    ("昨天晚上8点", sh(22, 20)), ("yesterday", sh(22, 12)), ("3 days ago", sh(20, 12)), ("2天前 15:00", sh(21, 15)),
    ("2026-11-20 14:30", sh(20, 14, 30)), ("11-20", sh(20, 12)), ("11/20 9am", sh(20, 9)),
    ("11月20日下午3点", sh(20, 15)), ("9am", sh(23, 9)), ("今天上午9点半", sh(23, 9, 30)), ("today", NOW),
    ("  yesterday   4pm ", sh(22, 16)),
])
def test_parse_past_reads_a_moment_already_passed(text, want):
    assert parse_past(text, now=NOW, tz="Asia/Shanghai") == want


@pytest.mark.parametrize("text, key", [
    ("tomorrow", "fu.date_future"), ("4pm", "fu.date_future"), ("下周五", "fu.date_future"),
    ("blah", "fu.date_unparseable"), ("", "fu.date_unparseable"), ("x" * 200, "fu.date_unparseable"),
    ("yesterday in 3 days", "fu.date_future"),
])
def test_parse_past_refuses_the_future_and_nonsense(text, key):
    with pytest.raises(InvalidInput) as e:
        parse_past(text, now=NOW, tz="Asia/Shanghai", lang="en")
    assert e.value.key == key
