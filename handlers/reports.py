"""The report registry behind `/report KIND [PERIOD]`. Feature modules register kinds with `@report`.

A report is `def report_<kind>(ctx: Ctx, args: str) -> Reply`; `roles` limits who may run it.
`parse_period(ctx, text)` turns `week`, `month`, `quarter`, `year`, `7d`, `2026-11`, `本周`, `本月` into a
[start, end) pair of aware UTC datetimes in the viewer's time zone. `parse_args` also reads the sales reports'
`owner:NAME` / `team:NAME` (负责人: / 团队:) filter into a `Scope`: the staff ids the report is narrowed to,
never wider than what the viewer may see.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers import inputs
from handlers.context import Ctx
from handlers.errors import InvalidInput, NotFound
from handlers.lookup import find_staff
from handlers.permissions import team_ids
from handlers.spans import Scope
from handlers.views import Reply
from storage.repos import staff as staff_repo

ReportFn = Callable[[Ctx, str], Reply]


@dataclass(frozen=True)
class Report:
    kind: str
    func: ReportFn
    roles: tuple[str, ...]
    aliases: tuple[str, ...] = ()


REPORTS: dict[str, Report] = {}


def report(kind: str, *, roles: tuple[str, ...], aliases: tuple[str, ...] = ()) -> Callable[[ReportFn], ReportFn]:
    def deco(fn: ReportFn) -> ReportFn:
        REPORTS[kind] = Report(kind, fn, roles, aliases)
        return fn

    return deco


def find(word: str) -> Report | None:
    w = inputs.key(word).lower()
    for r in REPORTS.values():
        if r.kind == w or w in r.aliases:
            return r
    return None


_PERIODS = {"week": "week", "本周": "week", "month": "month", "本月": "month", "quarter": "quarter",
            "本季度": "quarter", "year": "year", "今年": "year", "本年": "year"}


def parse_period(ctx: Ctx, text: str, *, default: str = "month") -> tuple[datetime, datetime]:
    """[start, end) of a period in the viewer's zone, as aware datetimes; `InvalidInput` for any other text
    (`2026-13`, `0000-01`, `9999d`: a calendar that does not hold the period is a bad period, not a crash)."""
    try:
        return _period(ctx, inputs.key(text or default).lower())
    except (ValueError, OverflowError):
        raise InvalidInput("report.bad_period", value=text) from None


def _period(ctx: Ctx, w: str) -> tuple[datetime, datetime]:
    local = ctx.now.astimezone(ctx.tz)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    m = re.fullmatch(r"(\d{1,3})\s*(d|天)", w, re.ASCII)
    if m:
        return day - timedelta(days=int(m.group(1)) - 1), day + timedelta(days=1)
    m = re.fullmatch(r"(\d{4})-(\d{2})", w, re.ASCII)
    if m:
        if not 1900 <= int(m.group(1)) <= 9998:  # converting to UTC must stay inside the calendar
            raise ValueError(w)
        start = day.replace(year=int(m.group(1)), month=int(m.group(2)), day=1)
        nxt = start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
        return start, nxt
    kind = _PERIODS.get(w)
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    if kind == "month":
        start = day.replace(day=1)
        return start, start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)
    if kind == "quarter":
        q0 = (day.month - 1) // 3 * 3 + 1
        start = day.replace(month=q0, day=1)
        end_m = q0 + 3
        return start, start.replace(year=start.year + (end_m > 12), month=(end_m - 1) % 12 + 1)
    if kind == "year":
        start = day.replace(month=1, day=1)
        return start, start.replace(year=start.year + 1)
    raise ValueError(w)


# ---------------------------------------------------------------- owner:NAME / team:NAME

_SCOPE = re.compile(r'(?:^|\s)(owner|team|负责人|团队)[:：]\s*(?:"([^"]+)"|“([^”]+)”|(\S+))', re.IGNORECASE)


def visible_staff(ctx: Ctx) -> set[int] | None:
    """The staff whose sales records the viewer may see (None: all, for an admin)."""
    if ctx.staff is None:
        return set()
    if ctx.role == "admin":
        return None
    return team_ids(ctx) if ctx.role == "manager" else {ctx.staff.id}


def parse_scope(ctx: Ctx, text: str) -> tuple[str, Scope]:
    """Split `owner:NAME` or `team:NAME` off the arguments (`owner:"Emily Zhao"` for a name with a space):
    (the rest, the scope). A name the viewer may not see reads as unknown, like a record that does not exist."""
    m = _SCOPE.search(text or "")
    if not m:
        return (text or "").strip(), Scope()
    rest = (text[:m.start()] + " " + text[m.end():]).strip()
    kind = "owner" if m.group(1).lower() in ("owner", "负责人") else "team"
    name = (m.group(2) or m.group(3) or m.group(4)).strip()
    allowed = visible_staff(ctx)
    if kind == "owner":
        who = find_staff(ctx, name, active=False)
        ids = {who.id}
        label = ctx.t("report.scope.owner", name=who.name)
    else:
        lead = staff_repo.get_by_name(ctx.session, name=name, active=False)
        if lead is not None and lead.role == "manager":
            ids, label = team_ids(ctx, lead), ctx.t("report.scope.team", name=lead.name)
        else:
            ids, label = staff_repo.team_member_ids(ctx.session, team=name), ctx.t("report.scope.team", name=name)
        if not ids:
            raise NotFound("report.no_team", name=name)
    if allowed is not None:
        if kind == "owner" and not ids <= allowed:
            raise NotFound("staffcmd.not_found", name=name.lstrip("@"))
        ids &= allowed
        if not ids:
            raise NotFound("report.no_team", name=name)
    return rest, Scope(frozenset(ids), label)


def parse_args(ctx: Ctx, text: str, *, default: str = "month") -> tuple[datetime, datetime, Scope]:
    """`[PERIOD] [owner:NAME|team:NAME]` in either order."""
    rest, scope = parse_scope(ctx, text)
    start, end = parse_period(ctx, rest, default=default)
    return start, end, scope
