"""What a report covers, below the report registry so services can use it: whose records (`Scope`, read from
`owner:`/`team:` by `handlers.reports.parse_scope`) and which weeks a weekly trend chart shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.context import Ctx


@dataclass(frozen=True)
class Scope:
    """Whose records a sales report counts: `staff_ids` None is everyone the viewer may see; `label` names
    the filter for the report's title (`owner: 张伟`), empty when there is none."""

    staff_ids: frozenset[int] | None = None
    label: str = ""


TREND_WEEKS = 8  # a weekly trend shows at least this many weeks (the period's, else the ones up to its end)


def trend_weeks(ctx: Ctx, start: datetime, end: datetime) -> list[date]:
    """The Mondays of the weeks a weekly trend chart shows: the weeks of [start, end), and at least the
    TREND_WEEKS weeks up to its end; at most 53."""
    last_day = (end - timedelta(microseconds=1)).astimezone(ctx.tz).date()
    last = last_day - timedelta(days=last_day.weekday())
    first_day = start.astimezone(ctx.tz).date()
    n = (last - (first_day - timedelta(days=first_day.weekday()))).days // 7 + 1
    n = min(max(n, TREND_WEEKS), 53)
    return [last - timedelta(weeks=n - 1 - i) for i in range(n)]


def week_span(ctx: Ctx, weeks: list[date]) -> tuple[datetime, datetime]:
    """[start, end) of those weeks as aware datetimes in the viewer's zone."""
    return (datetime.combine(weeks[0], time(0), tzinfo=ctx.tz),
            datetime.combine(weeks[-1] + timedelta(days=7), time(0), tzinfo=ctx.tz))
