"""A day typed without a year is resolved by one rule (`handlers.dates.yearless`) wherever it is typed."""

from datetime import UTC, date, datetime

import pytest

from handlers.context import Ctx
from handlers.dates import parse_day, yearless
from handlers.errors import InvalidInput
from handlers.services.customer_fields import parse_date
from tests import factories as f


def test_yearless_past_future_and_near():
    today = date(2026, 11, 23)
    assert yearless(today, 12, 5, lean="past") == date(2025, 12, 5)
    assert yearless(today, 11, 1, lean="past") == date(2026, 11, 1)
    assert yearless(today, 11, 1, lean="future") == date(2027, 11, 1)
    assert yearless(today, 12, 5, lean="future") == date(2026, 12, 5)
    assert yearless(today, 11, 1) == date(2026, 11, 1)  # near: passed less than 60 days ago
    assert yearless(today, 3, 1) == date(2027, 3, 1)
    with pytest.raises(ValueError):
        yearless(today, 2, 30)


def test_yearless_parsers_agree_on_past_days():
    now = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    assert parse_day("12月5日", now=now, tz="UTC").date() == yearless(now.date(), 12, 5, lean="past")


def test_yearless_a_leap_day_that_has_no_past_year_is_refused_not_a_crash(session, settings):
    """29 February typed in a leap year before that day: last year had none — a clear refusal (it used to
    raise ValueError out of the purchase command)."""
    now = datetime(2028, 1, 10, 4, 0, tzinfo=UTC)
    ctx = Ctx(session=session, now=now, settings=settings, platform="console", chat_ref="@a", user_ref="a",
              lang="en", staff=f.staff(session, name="a"))
    with pytest.raises(InvalidInput) as e:
        parse_date(ctx, "2月29日", past=True)
    assert e.value.key == "cust.err.date"
    assert parse_date(ctx, "2月29日") == date(2028, 2, 29)
