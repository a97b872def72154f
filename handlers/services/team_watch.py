"""A sales manager's view of their team (handbook 002 §3.1, §5.1): who falls behind, nudging a rep, the week.

- `team_alert`: the team's customers behind their grade's cadence, by rep, and the new leads whose first
  contact window (`first_contact_window`, 24 h) passed without a follow-up (looked back `MISSED_LOOKBACK`).
- `nudge`: a manager asks the owner of one customer to contact it: one line to the rep, once a day.
- `weekly_summary`: per rep the contacts logged (calls among them) and overdue follow-ups; the team's deals
  won (at their actual amount) and lost, and how the open pipeline changed over the week.

The team is `storage.repos.staff.team_ids` (reports to the manager, or the same team), the manager excluded.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers import notify
from handlers.cards import team as cards
from handlers.cards.team import RepWeek, TeamAlert, WeeklySummary
from handlers.context import Ctx
from handlers.errors import Conflict, Forbidden, InvalidInput
from handlers.lookup import resolve_customer
from handlers.permissions import is_manager_of
from handlers.services.followups import SALES_METHODS
from handlers.settings import DomainSettings
from storage.models import Customer, Staff
from storage.repos import followups as followup_repo
from storage.repos import staff as staff_repo
from storage.repos import team as repo

MISSED_LOOKBACK = timedelta(days=7)  # first contacts missed longer ago are no news any more
SALES_ROLES = ("rep", "manager")


def team_members(session: Session, manager: Staff) -> list[Staff]:
    """The sales staff a manager is responsible for, themselves excluded, by name."""
    ids = staff_repo.team_ids(session, manager) - {manager.id}
    return [m for m in repo.members(session, ids) if m.role in SALES_ROLES]


# ---------------------------------------------------------------- falling behind


def team_alert(session: Session, manager: Staff, settings: DomainSettings, *, now: datetime) -> TeamAlert:
    people = {m.id: m for m in team_members(session, manager)}
    if not people:
        return TeamAlert([], [])
    missed = repo.leads_without_contact(session, owner_ids=people, created_from=now - MISSED_LOOKBACK,
                                        created_to=now - settings.first_contact_window, methods=SALES_METHODS)
    cadence = {"A": settings.cadence_a_days, "B": settings.cadence_b_days, "C": settings.cadence_c_days}
    seen = {c.id for c in missed}
    by_rep: dict[int, list[Customer]] = defaultdict(list)
    for c in repo.behind_cadence(session, owner_ids=people, now=now, cadence=cadence):
        if c.id not in seen:
            by_rep[c.owner_id].append(c)
    behind = [(people[i], by_rep[i]) for i in people if by_rep[i]]  # people is by name
    return TeamAlert([(c, people[c.owner_id]) for c in missed], behind)


def nudge(ctx: Ctx, query: str) -> tuple[Customer, Staff]:
    """Ask the owner of a customer of the manager's team to contact it: one line to them, once per day
    (their local day). Returns (customer, owner); a second nudge the same day is a Conflict."""
    if ctx.role not in ("manager", "admin"):
        raise Forbidden("team.err.managers_only")
    if not query.strip():
        raise InvalidInput("team.nudge_usage")
    c = resolve_customer(ctx, query.strip())
    owner = ctx.session.get(Staff, c.owner_id) if c.owner_id else None
    if owner is None:
        raise InvalidInput("team.err.pooled", code=c.code)
    if owner.id == ctx.staff.id:
        raise InvalidInput("team.err.yours", code=c.code)
    if not is_manager_of(ctx, owner.id):
        raise Forbidden("team.err.not_team", code=c.code)
    if not owner.active:
        raise InvalidInput("team.err.inactive", name=owner.name, code=c.code)
    day = ctx.now.astimezone(ZoneInfo(owner.tz or ctx.settings.default_tz)).date()
    last = c.last_followup_at
    reply = cards.nudge(owner.lang, c, by=ctx.staff.name, days=(ctx.now - last).days if last else None)
    if not notify.to_staff(ctx.session, owner, key=f"nudge:{c.id}:{owner.id}:{day}", reply=reply, now=ctx.now):
        raise Conflict("team.err.nudged", name=owner.name, code=c.code)
    return c, owner


# ---------------------------------------------------------------- the week


def weekly_summary(session: Session, manager: Staff, *, start: datetime, end: datetime,
                   now: datetime) -> WeeklySummary:
    """The team's figures for [start, end) (overdue follow-ups as of `now`)."""
    people = team_members(session, manager)
    ids = {p.id for p in people}
    owners = ids | {manager.id}  # the team's pipeline includes what the manager owns
    contacts: dict[int, int] = defaultdict(int)
    calls: dict[int, int] = defaultdict(int)
    for sid, method, n in followup_repo.logged_by_method(session, staff_ids=ids, start=start, end=end,
                                                         methods=SALES_METHODS):
        contacts[sid] += n
        if method == "phone":
            calls[sid] += n
    overdue = followup_repo.overdue_by_assignee(session, staff_ids=ids, now=now)
    won = [o for o, _ in repo.stage_reached(session, owner_ids=owners, stages=("won",), start=start, end=end)]
    lost = [o for o, _ in repo.stage_reached(session, owner_ids=owners, stages=("lost",), start=start, end=end)]
    reps = []
    for p in people:
        mine_won = [o for o in won if o.owner_id == p.id]
        row = RepWeek(p, contacts[p.id], calls[p.id], overdue.get(p.id, 0), len(mine_won),
                      sum((o.actual_amount or Decimal(0) for o in mine_won), Decimal(0)),
                      sum(1 for o in lost if o.owner_id == p.id))
        if p.active or row.contacts or row.overdue or row.won or row.lost:
            reps.append(row)
    closed = ("won", "lost")
    return WeeklySummary(start, end, reps, won, lost,
                         repo.open_pipeline_at(session, owner_ids=owners, at=start, closed=closed),
                         repo.open_pipeline_at(session, owner_ids=owners, at=end, closed=closed))
