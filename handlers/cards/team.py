"""A manager's messages about their team, and the rep's side of them, in the recipient's language: the
morning team alert (behind cadence by rep, first contacts missed; Reassign and Remind buttons), the nudge a
rep gets, the warning before the pool takes a customer back (Log and Keep), and the Monday team summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from handlers.i18n import t
from handlers.settings import DomainSettings
from handlers.views import Action, Button, Buttons, Fields, FileRef, Header, ListItem, ListPage, Reply, Text
from storage.models import Customer, Opportunity, Staff

MAX_ITEMS = 15  # customers with buttons in one alert; the rest are counted


# ---------------------------------------------------------------- what the services fill in


@dataclass(frozen=True)
class TeamAlert:
    missed: list[tuple[Customer, Staff]]  # first contacts missed: (lead, owner)
    behind: list[tuple[Staff, list[Customer]]]  # behind their grade's cadence, by rep

    def __len__(self) -> int:
        return len(self.missed) + sum(len(cs) for _, cs in self.behind)


@dataclass(frozen=True)
class RepWeek:
    staff: Staff
    contacts: int = 0  # follow-ups logged (sales methods)
    calls: int = 0  # of which by phone
    overdue: int = 0  # open follow-ups they owe, overdue now
    won: int = 0
    won_amount: Decimal = Decimal(0)
    lost: int = 0


@dataclass(frozen=True)
class WeeklySummary:
    start: datetime
    end: datetime
    reps: list[RepWeek]
    won: list[Opportunity] = field(default_factory=list)
    lost: list[Opportunity] = field(default_factory=list)
    pipeline_start: tuple[int, Decimal] = (0, Decimal(0))
    pipeline_end: tuple[int, Decimal] = (0, Decimal(0))

    @property
    def won_amount(self) -> Decimal:
        return sum((o.actual_amount or Decimal(0) for o in self.won), Decimal(0))

    def __len__(self) -> int:
        """Anything to report at all (a team with no activity and no pipeline gets no summary)."""
        busy = sum(r.contacts + r.overdue for r in self.reps)
        return busy + len(self.won) + len(self.lost) + self.pipeline_start[0] + self.pipeline_end[0]


def _money(v: Decimal | int) -> str:
    return f"¥{Decimal(v):,.0f}"


def manager_buttons(lang: str, c: Customer) -> tuple[Button, ...]:
    """Remind the owner (one line, once a day) or give the customer to someone else (the owner edit)."""
    return (Button(t(lang, "team.btn.remind"), Action(f"/nudge {c.code}"), "primary"),
            Button(t(lang, "team.btn.reassign"), Action(f"/customer edit {c.code} owner")))


def _behind_item(lang: str, c: Customer, settings: DomainSettings, now: datetime) -> ListItem:
    last = c.last_followup_at or c.created_at
    key = "job.digest.cadence_detail" if c.last_followup_at else "job.digest.cadence_never"
    detail = t(lang, key, grade=c.grade or "C", days=(now - last).days, cadence=settings.cadence_days(c.grade))
    return ListItem(f"{c.code} {c.name}", detail, manager_buttons(lang, c))


def _missed_item(lang: str, c: Customer, owner: Staff, now: datetime) -> ListItem:
    hours = int((now - c.created_at).total_seconds() // 3600)
    return ListItem(f"{c.code} {c.name}", t(lang, "team.alert.missed_detail", owner=owner.name, hours=hours),
                    manager_buttons(lang, c))


def team_alert(manager: Staff, alert: TeamAlert, settings: DomainSettings, *, now: datetime,
               local_now: datetime) -> Reply:
    lang = manager.lang
    title = t(lang, "team.alert.title", date=local_now.strftime("%Y-%m-%d"))
    summary = t(lang, "team.alert.summary", missed=len(alert.missed),
                behind=sum(len(cs) for _, cs in alert.behind),
                reps=len({o.id for _, o in alert.missed} | {rep.id for rep, _ in alert.behind}))
    views: list = [Header(title), Text(summary)]
    if alert.behind:
        views.append(Fields(tuple((rep.name, t(lang, "team.alert.rep_row", n=len(cs)))
                                  for rep, cs in alert.behind)))
    room = MAX_ITEMS
    if alert.missed:
        shown = [_missed_item(lang, c, o, now) for c, o in alert.missed[:room]]
        room -= len(shown)
        views.append(ListPage(t(lang, "team.alert.missed", n=len(alert.missed)), tuple(shown),
                              total=len(alert.missed)))
    for rep, cs in alert.behind:
        shown = [_behind_item(lang, c, settings, now) for c in cs[:room]]
        room -= len(shown)
        if shown:
            views.append(ListPage(t(lang, "team.alert.behind", name=rep.name, n=len(cs)), tuple(shown),
                                  total=len(cs)))
    hidden = len(alert) - MAX_ITEMS
    if hidden > 0:
        views.append(Text(t(lang, "team.alert.more", n=hidden), muted=True))
    return Reply(views=tuple(views), text=f"{title} — {summary}")


def nudge(lang: str, c: Customer, *, by: str, days: int | None) -> Reply:
    text = (t(lang, "team.nudge", by=by, code=c.code, name=c.name, days=days) if days is not None
            else t(lang, "team.nudge_never", by=by, code=c.code, name=c.name))
    return Reply(views=(Text(text), Buttons((Button(t(lang, "job.digest.log"), Action(f"/log {c.code}"),
                                                    "primary"),))), text=text)


def pool_warning(lang: str, c: Customer, *, on: date, days: int, quiet: int) -> Reply:
    text = t(lang, "team.pool_warn", code=c.code, name=c.name, quiet=quiet, date=on.isoformat(), days=days)
    return Reply(views=(Text(text), Buttons((
        Button(t(lang, "job.digest.log"), Action(f"/log {c.code}"), "primary"),
        Button(t(lang, "team.btn.keep"), Action(f"/keep {c.code}"))))), text=text)


def weekly_summary(manager: Staff, s: WeeklySummary, *, first: date, last: date,
                   file: FileRef | None = None) -> Reply:
    """The Monday summary; `file`: the team's funnel chart, sent with it."""
    lang = manager.lang
    title = t(lang, "team.week.title", start=first.isoformat(), end=last.isoformat())
    rows = tuple((r.staff.name, t(lang, "team.week.rep_row", contacts=r.contacts, calls=r.calls, won=r.won,
                                  amount=_money(r.won_amount), lost=r.lost, overdue=r.overdue))
                 for r in s.reps)
    (n0, a0), (n1, a1) = s.pipeline_start, s.pipeline_end
    delta = a1 - a0
    views: list = [Header(title), Fields(rows) if rows else Text(t(lang, "team.week.no_reps"), muted=True),
                   Text(t(lang, "team.week.deals", won=len(s.won), amount=_money(s.won_amount), lost=len(s.lost))),
                   Text(t(lang, "team.week.pipeline", n=n1, amount=_money(a1), n0=n0,
                          change=("+" if delta >= 0 else "−") + _money(abs(delta)))),
                   Text(t(lang, "team.week.overdue", n=sum(r.overdue for r in s.reps)))]
    views.append(Buttons((Button(t(lang, "team.btn.team_followups"), Action("/followups team")),)))
    return Reply(views=tuple(views), text=title, file=file)
