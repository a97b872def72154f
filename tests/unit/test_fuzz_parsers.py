"""Property-based fuzzing of every parser that turns typed text into a number, an amount, a date or a period:
each returns a value in range or raises `InvalidInput` — never another exception. No database; fast.

Same switches as test_fuzz_router: `CRM_FUZZ_EXAMPLES`, `CRM_FUZZ_RANDOM`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers import actions, dates, dates_past, inputs, reports
from handlers.errors import UserError
from handlers.services import customer_fields as cf
from handlers.services.ratings import parse_stars
from handlers.settings import DomainSettings
from tests.fuzz_world import DATES, NUMBERS, ODD

EXAMPLES = int(os.environ.get("CRM_FUZZ_EXAMPLES", "60")) * 2
FUZZ = settings(max_examples=EXAMPLES, derandomize=not os.environ.get("CRM_FUZZ_RANDOM"), database=None,
                deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
EXTRA = ["0001-01-01", "9999-12-31", "jan 1 0001", "dec 31 9999", "99.99", "下99999个月", "in 9999999 weeks",
         "99999999小时后", "at 99", "明天99点", "12月99日", "99月1日", "下个月99号", "99th", "过99999999天",
         "9999年12月31日", "0年1月1日", "1e400", "0.000001", "99999999999.999", "1,,,000", "9" * 5000]
TEXT = st.lists(st.one_of(st.sampled_from(DATES + NUMBERS + ODD + EXTRA), st.text(max_size=6)),
                min_size=1, max_size=4).map(" ".join)
ZONES = st.sampled_from(["Asia/Shanghai", "Pacific/Kiritimati", "America/Adak", "UTC"])


class _Ctx:
    """What the field parsers read: the clock, the zone and the language."""

    def __init__(self, tz: str) -> None:
        from zoneinfo import ZoneInfo

        self.now, self.tz, self.lang, self.settings = NOW, ZoneInfo(tz), "en", DomainSettings(_env_file=None)


def _refused_or(fn, *args, **kw):  # noqa: ANN001, ANN202
    try:
        return fn(*args, **kw)
    except UserError:
        return None


@FUZZ
@given(text=TEXT, tz=ZONES)
def test_fuzz_parsers_dates_are_in_range_or_refused(text, tz):
    when = _refused_or(dates.parse_when, text, now=NOW, tz=tz, lang="en")
    assert when is None or (when > NOW and when.tzinfo is not None and when - NOW < timedelta(days=366 * 11))
    day = _refused_or(dates.parse_day, text, now=NOW, tz=tz, lang="zh")
    assert day is None or day.tzinfo is not None
    future = _refused_or(dates.parse_future_day, text, now=NOW, tz=tz, lang="en")
    assert future is None or future >= NOW - timedelta(days=1)
    past = _refused_or(dates_past.parse_past, text, now=NOW, tz=tz, lang="zh")
    assert past is None or (past <= NOW and past.tzinfo is not None)
    ctx = _Ctx(tz)
    for past in (True, False):
        d = _refused_or(cf._parse_date, ctx, text, past=past)
        assert d is None or 1900 <= d.year <= NOW.year + 100, d


@FUZZ
@given(text=TEXT, tz=ZONES)
def test_fuzz_parsers_periods_amounts_ids_and_stars(text, tz):
    ctx = _Ctx(tz)
    period = _refused_or(reports.parse_period, ctx, text)
    assert period is None or period[0] < period[1]
    amount = _refused_or(cf.parse_amount, ctx, text)
    assert amount is None or Decimal(0) < Decimal(amount) < Decimal("1e12")
    n = inputs.parse_id(text)
    assert n is None or 1 <= n <= inputs.MAX_ID
    stars = _refused_or(parse_stars, text)
    assert stars is None or 1 <= stars <= 5


@FUZZ
@given(text=st.text(max_size=80))
def test_fuzz_parsers_clean_and_key_give_storable_text(text):
    for out in (inputs.clean(text), inputs.key(text)):
        out.encode("utf-8")  # no lone surrogate left
        assert "\x00" not in out and "\u200b" not in out and "\u202e" not in out
    assert inputs.clean(inputs.clean(text)) == inputs.clean(text)


@FUZZ
@given(token=st.one_of(st.text(max_size=70), st.builds(lambda a, b, c: f"{a}|{b}|{c}", st.text(max_size=20),
                                                          st.text(max_size=5), st.text(max_size=12))))
def test_fuzz_parsers_button_tokens_decode_or_are_bad(token):
    with pytest.raises(actions.BadToken):
        actions.decode(token, scopes=("c:x",), secret=b"fuzz", now=NOW)
