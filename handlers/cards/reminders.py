"""The scheduler's reminders to sales staff, in the recipient's language: the morning digest (overdue follow-ups,
today's, customers behind their grade's cadence; at most `MAX_ITEMS` items, with a pointer to `/followups` for the
rest) and the first-contact reminder and escalation for a new lead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from handlers.actions import fits
from handlers.i18n import enum_label, t
from handlers.settings import DomainSettings
from handlers.views import (
    Action,
    Button,
    Buttons,
    Header,
    ListItem,
    ListPage,
    Prerendered,
    Reply,
    Template,
    Text,
)
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


def _fu_view(text: str, detail: str, fid: str, code: str, labels: tuple[str, ...]) -> ListItem:
    done, *snoozes, log = labels
    buttons = (Button(done, Action(f"/followups done {fid}"), "primary"),
               *(Button(label, Action(f"/followups snooze {fid} {s}")) for label, s in zip(snoozes, SNOOZES,
                                                                                          strict=True)),
               Button(log, Action(f"/log {code}")))
    return ListItem(text=text, detail=detail, buttons=buttons)


_TEMPLATES: dict[tuple[str, ...], Template] = {}  # by the buttons' labels: one per language


def _template(labels: tuple[str, ...]) -> Template:
    tp = _TEMPLATES.get(labels)
    if tp is None:
        tp = _TEMPLATES[labels] = Template(lambda *v: _fu_view(*v, labels), 4)
    return tp


class _Items:
    """Makes a digest's follow-up items: the texts once per item; the views themselves, or (`prerender`: for the
    outbox) their JSON filled into one `Template` per digest, when every command of the item fits a token."""

    def __init__(self, lang: str, tz, prerender: bool) -> None:  # noqa: ANN001
        self.lang, self.tz, self.labels = lang, tz, _labels(lang)
        self.methods: dict[str, str] = {}  # a few methods, ~15 items: each label looked up once per digest
        self.template = _template(self.labels) if prerender else None

    def __call__(self, f: DueFollowUp, c: DueCustomer) -> ListItem | Prerendered:
        lang = self.lang
        at = f.next_followup_at.astimezone(self.tz)
        when = f"{at.month:02d}-{at.day:02d} {at.hour:02d}:{at.minute:02d}"  # strftime("%m-%d %H:%M"), at half the cost
        note = (f.content or "").strip().replace("\n", " ")
        note = note[:80] + ("…" if len(note) > 80 else "")
        method = self.methods.get(f.method)
        if method is None:
            method = self.methods[f.method] = enum_label(lang, "method", f.method)
        detail = t(lang, "job.digest.item_detail", when=when, method=method, note=note)
        text, fid, code = f"{c.code} {c.name}", str(f.id), c.code
        if self.template is not None and fits(f"/log {code}") and fits(f"/followups snooze {fid} 1w"):
            return self.template.fill(text, detail, fid, code)
        return _fu_view(text, detail, fid, code, self.labels)


def _cadence_item(lang: str, c: BehindCustomer, settings: DomainSettings, now: datetime) -> ListItem:
    last = c.last_followup_at or c.created_at
    key = "job.digest.cadence_detail" if c.last_followup_at else "job.digest.cadence_never"
    detail = t(lang, key, grade=c.grade, days=(now - last).days,
               cadence=settings.cadence_days(c.grade))
    return ListItem(text=f"{c.code} {c.name}", detail=detail,
                    buttons=(Button(t(lang, "job.digest.log"), Action(f"/log {c.code}"), "primary"),))


def digest(staff: Staff, due: Due, settings: DomainSettings, *, now: datetime, local_now: datetime,
           prerender: bool = False) -> Reply:
    """The rep's morning digest. `prerender`: its follow-up items as `Prerendered` JSON where their commands fit a
    token (the same message once `to_json` wrote it, made without building each item: for the outbox only)."""
    lang = staff.lang
    n_overdue, n_today, n_behind = due.totals()
    summary = t(lang, "job.digest.summary", overdue=n_overdue, today=n_today, behind=n_behind)
    views: list = [Header(t(lang, "job.digest.title", date=local_now.strftime("%Y-%m-%d"))), Text(summary)]
    room = MAX_ITEMS
    fu_item = _Items(lang, local_now.tzinfo, prerender)
    sections = (("job.digest.overdue", due.overdue, n_overdue, lambda fc: fu_item(*fc)),
                ("job.digest.today", due.today, n_today, lambda fc: fu_item(*fc)),
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
