"""The scheduler's reminders to sales staff, in the recipient's language: the morning digest (overdue follow-ups,
today's, customers behind their grade's cadence; at most `MAX_ITEMS` items, with a pointer to `/followups` for the
rest) and the first-contact reminder and escalation for a new lead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from handlers.i18n import enum_label, t
from handlers.settings import DomainSettings
from handlers.views import Action, Button, Buttons, Header, ListItem, ListPage, Reply, Text
from storage.models import Customer, Staff

MAX_ITEMS = 15
SNOOZES = ("1d", "3d", "1w")


class DueFollowUp(Protocol):
    """What the digest reads of a follow-up (a FollowUp, or a row of those columns)."""

    id: int
    next_followup_at: datetime
    method: str
    content: str | None


class DueCustomer(Protocol):
    """What the digest reads of a customer (a Customer, or a row of those columns)."""

    code: str
    name: str


class BehindCustomer(DueCustomer, Protocol):
    grade: str
    last_followup_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class Due:
    """A rep's due work: overdue follow-ups, today's, customers behind their grade's cadence. The lists may hold
    only the first of each (what the digest can show); `counts` then says how many there are in all."""

    overdue: list[tuple[DueFollowUp, DueCustomer]]
    today: list[tuple[DueFollowUp, DueCustomer]]
    behind: list[BehindCustomer]
    counts: tuple[int, int, int] | None = None  # (overdue, today, behind) in all; None: the lists are complete

    def totals(self) -> tuple[int, int, int]:
        return self.counts or (len(self.overdue), len(self.today), len(self.behind))

    def __len__(self) -> int:
        return sum(self.totals())


def _labels(lang: str) -> tuple[str, ...]:
    """The follow-up buttons' labels (done, each snooze, log): the same for every item of a digest."""
    return (t(lang, "job.digest.done"), *(t(lang, f"job.digest.snooze_{s}") for s in SNOOZES),
            t(lang, "job.digest.log"))


def _fu_item(lang: str, f: DueFollowUp, c: DueCustomer, tz, labels: tuple[str, ...],  # noqa: ANN001
             methods: dict[str, str]) -> ListItem:
    when = f.next_followup_at.astimezone(tz).strftime("%m-%d %H:%M")
    note = (f.content or "").strip().replace("\n", " ")
    note = note[:80] + ("…" if len(note) > 80 else "")
    method = methods.get(f.method)
    if method is None:  # a few methods, ~15 items: each label looked up once per digest
        method = methods[f.method] = enum_label(lang, "method", f.method)
    detail = t(lang, "job.digest.item_detail", when=when, method=method, note=note)
    done, *snoozes, log = labels
    buttons = (Button(done, Action(f"/followups done {f.id}"), "primary"),
               *(Button(label, Action(f"/followups snooze {f.id} {s}")) for label, s in zip(snoozes, SNOOZES,
                                                                                          strict=True)),
               Button(log, Action(f"/log {c.code}")))
    return ListItem(text=f"{c.code} {c.name}", detail=detail, buttons=buttons)


def _cadence_item(lang: str, c: BehindCustomer, settings: DomainSettings, now: datetime) -> ListItem:
    last = c.last_followup_at or c.created_at
    key = "job.digest.cadence_detail" if c.last_followup_at else "job.digest.cadence_never"
    detail = t(lang, key, grade=c.grade, days=(now - last).days,
               cadence=settings.cadence_days(c.grade))
    return ListItem(text=f"{c.code} {c.name}", detail=detail,
                    buttons=(Button(t(lang, "job.digest.log"), Action(f"/log {c.code}"), "primary"),))


def digest(staff: Staff, due: Due, settings: DomainSettings, *, now: datetime,
                 local_now: datetime) -> Reply:
    lang, tz = staff.lang, local_now.tzinfo
    n_overdue, n_today, n_behind = due.totals()
    summary = t(lang, "job.digest.summary", overdue=n_overdue, today=n_today, behind=n_behind)
    views: list = [Header(t(lang, "job.digest.title", date=local_now.strftime("%Y-%m-%d"))), Text(summary)]
    room = MAX_ITEMS
    labels, methods = _labels(lang), {}
    sections = (("job.digest.overdue", due.overdue, n_overdue, lambda fc: _fu_item(lang, *fc, tz, labels, methods)),
                ("job.digest.today", due.today, n_today, lambda fc: _fu_item(lang, *fc, tz, labels, methods)),
                ("job.digest.cadence", due.behind, n_behind, lambda c: _cadence_item(lang, c, settings, now)))
    for key, rows, total, item in sections:
        shown = [item(r) for r in rows[:room]]  # only what is shown is built
        room -= len(shown)
        if shown:
            views.append(ListPage(title=t(lang, key, n=total), items=tuple(shown), total=total))
    hidden = len(due) - MAX_ITEMS
    if hidden > 0:
        views.append(Text(t(lang, "job.digest.more", n=hidden), muted=True))
    views.append(Buttons((Button(t(lang, "job.digest.open_all"), Action("/followups")),)))
    return Reply(views=tuple(views), text=f"{t(lang, 'job.digest.title', date=local_now.strftime('%Y-%m-%d'))}"
                                          f" — {summary}")


def first_contact_reminder(lang: str, c: Customer, *, hours: int, left: int, deadline: datetime) -> Reply:
    """To the owner of a new lead with no follow-up yet: `left` hours to the end of the first-contact window
    (0: it has passed — the bot was down when the reminder was due)."""
    if left > 0:
        text = t(lang, "job.first.remind", code=c.code, name=c.name, hours=hours, left=left,
                 deadline=deadline.strftime("%m-%d %H:%M"))
    else:
        text = t(lang, "job.first.remind_late", code=c.code, name=c.name, hours=hours)
    return Reply(views=(Text(text), Buttons((Button(t(lang, "job.digest.log"), Action(f"/log {c.code}"), "primary"),))),
                 text=text)


def first_contact_escalation(lang: str, c: Customer, owner: Staff | None, *, hours: int) -> Reply:
    """To the owner's manager (or the admins) when the window passed: Remind the owner, or Reassign the lead."""
    text = t(lang, "job.first.escalate", code=c.code, name=c.name, owner=owner.name if owner else "—", hours=hours)
    buttons = (Button(t(lang, "team.btn.remind"), Action(f"/nudge {c.code}"), "primary"),
               Button(t(lang, "team.btn.reassign"), Action(f"/customer edit {c.code} owner")))
    return Reply(views=(Text(text), Buttons(buttons)), text=text)
