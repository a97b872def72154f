"""`followup_digest` and `cadence`: each rep's morning message at their own local reminder time.

The job runs every minute. A rep is due when their local reminder time (`Staff.reminder_time`, default the
`CRM_REMINDER_TIME` setting) has passed today in their time zone and no outbox row `digest:<staff id>:<local
date>` exists. So a bot that was down at 09:00 sends the day's digests when it comes back, once. A day with
nothing due is recorded as a `skipped` row under the same key: nothing is sent, and a follow-up added later
that day does not produce a late digest.

One message per rep: overdue follow-ups, today's, then customers behind their grade's cadence (the `cadence`
list is folded in here; it never sends a message of its own). At most `MAX_ITEMS` items are shown, with a
pointer to `/followups` for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import and_, exists, or_, select
from sqlmodel import Session

from handlers import notify
from handlers.i18n import enum_label, t
from handlers.settings import DomainSettings
from handlers.views import Action, Button, Buttons, Header, ListItem, ListPage, Reply, Text, to_json
from scheduler.jobs import each, log, zone
from storage import outbox
from storage.models import Customer, FollowUp, Outbox, Staff

MAX_ITEMS = 15
SNOOZES = ("1d", "3d", "1w")


@dataclass(frozen=True)
class Due:
    overdue: list[tuple[FollowUp, Customer]]
    today: list[tuple[FollowUp, Customer]]
    behind: list[Customer]

    def __len__(self) -> int:
        return len(self.overdue) + len(self.today) + len(self.behind)


def digest_key(staff: Staff, local_date: object) -> str:
    return f"digest:{staff.id}:{local_date}"


def reminder_passed(staff: Staff, now: datetime, settings: DomainSettings) -> tuple[bool, datetime]:
    """(has the staff member's reminder time passed today, their local now)."""
    tz = zone(staff.tz, settings.default_tz)
    local_now = now.astimezone(tz)
    hh, mm = (staff.reminder_time or settings.reminder_time).split(":")
    return local_now.time() >= time(int(hh), int(mm)), local_now


# ---------------------------------------------------------------- what is due


def open_followups(session: Session, staff: Staff, *, before: datetime) -> list[tuple[FollowUp, Customer]]:
    """Open follow-ups due before `before` that the staff member owes (`assignee_id`), oldest first."""
    q = (select(FollowUp, Customer).join(Customer, Customer.id == FollowUp.customer_id)
         .where(FollowUp.assignee_id == staff.id, FollowUp.next_followup_at.is_not(None),
                FollowUp.next_followup_at < before, FollowUp.done_at.is_(None), FollowUp.deleted_at.is_(None))
         .order_by(FollowUp.next_followup_at, FollowUp.id))
    return [(f, c) for f, c in session.execute(q)]


def behind_cadence(session: Session, settings: DomainSettings, *, now: datetime,
                   owner_id: int | None = None) -> list[Customer]:
    """Customers whose last contact is older than their grade's cadence and with nothing planned ahead."""
    out = []
    planned = exists().where(FollowUp.customer_id == Customer.id, FollowUp.next_followup_at >= now,
                             FollowUp.done_at.is_(None), FollowUp.deleted_at.is_(None))
    oldest_cadence = min(settings.cadence_a_days, settings.cadence_b_days, settings.cadence_c_days)
    q = (select(Customer).where(Customer.owner_id.is_not(None), Customer.type != "lost", ~planned,
                                or_(and_(Customer.last_followup_at.is_(None),
                                         Customer.created_at < now - timedelta(days=oldest_cadence)),
                                    Customer.last_followup_at < now - timedelta(days=oldest_cadence)))
         .order_by(Customer.last_followup_at, Customer.id))
    if owner_id is not None:
        q = q.where(Customer.owner_id == owner_id)
    for c in session.scalars(q):
        last = c.last_followup_at or c.created_at
        if last < now - timedelta(days=settings.cadence_days(c.grade)):
            out.append(c)
    return out


def due_for(session: Session, staff: Staff, settings: DomainSettings, *, now: datetime,
            local_now: datetime) -> Due:
    midnight = datetime.combine(local_now.date(), time(0), local_now.tzinfo)
    items = open_followups(session, staff, before=midnight + timedelta(days=1))
    overdue = [(f, c) for f, c in items if f.next_followup_at < midnight]
    today = [(f, c) for f, c in items if f.next_followup_at >= midnight]
    listed = {c.id for _, c in items}
    behind = [c for c in behind_cadence(session, settings, now=now, owner_id=staff.id) if c.id not in listed]
    return Due(overdue, today, behind)


# ---------------------------------------------------------------- the message


def _fu_item(lang: str, f: FollowUp, c: Customer, tz) -> ListItem:  # noqa: ANN001
    when = f.next_followup_at.astimezone(tz).strftime("%m-%d %H:%M")
    note = (f.content or "").strip().replace("\n", " ")
    note = note[:80] + ("…" if len(note) > 80 else "")
    detail = t(lang, "job.digest.item_detail", when=when, method=enum_label(lang, "method", f.method), note=note)
    buttons = (Button(t(lang, "job.digest.done"), Action(f"/followups done {f.id}"), "primary"),
               *(Button(t(lang, f"job.digest.snooze_{s}"), Action(f"/followups snooze {f.id} {s}"))
                 for s in SNOOZES),
               Button(t(lang, "job.digest.log"), Action(f"/log {c.code}")))
    return ListItem(text=f"{c.code} {c.name}", detail=detail, buttons=buttons)


def _cadence_item(lang: str, c: Customer, settings: DomainSettings, now: datetime) -> ListItem:
    last = c.last_followup_at or c.created_at
    key = "job.digest.cadence_detail" if c.last_followup_at else "job.digest.cadence_never"
    detail = t(lang, key, grade=c.grade, days=(now - last).days,
               cadence=settings.cadence_days(c.grade))
    return ListItem(text=f"{c.code} {c.name}", detail=detail,
                    buttons=(Button(t(lang, "job.digest.log"), Action(f"/log {c.code}"), "primary"),))


def build_digest(staff: Staff, due: Due, settings: DomainSettings, *, now: datetime,
                 local_now: datetime) -> Reply:
    lang, tz = staff.lang, local_now.tzinfo
    summary = t(lang, "job.digest.summary", overdue=len(due.overdue), today=len(due.today),
                behind=len(due.behind))
    views: list = [Header(t(lang, "job.digest.title", date=local_now.strftime("%Y-%m-%d"))), Text(summary)]
    room = MAX_ITEMS
    sections = (("job.digest.overdue", [_fu_item(lang, f, c, tz) for f, c in due.overdue]),
                ("job.digest.today", [_fu_item(lang, f, c, tz) for f, c in due.today]),
                ("job.digest.cadence", [_cadence_item(lang, c, settings, now) for c in due.behind]))
    for key, items in sections:
        shown = items[:room]
        room -= len(shown)
        if shown:
            views.append(ListPage(title=t(lang, key, n=len(items)), items=tuple(shown), total=len(items)))
    hidden = len(due) - MAX_ITEMS
    if hidden > 0:
        views.append(Text(t(lang, "job.digest.more", n=hidden), muted=True))
    views.append(Buttons((Button(t(lang, "job.digest.open_all"), Action("/followups")),)))
    return Reply(views=tuple(views), text=f"{t(lang, 'job.digest.title', date=local_now.strftime('%Y-%m-%d'))}"
                                          f" — {summary}")


# ---------------------------------------------------------------- the jobs


def _digest_one(session: Session, staff: Staff, settings: DomainSettings, now: datetime, local_now: datetime) -> bool:
    key = digest_key(staff, local_now.date())
    due = due_for(session, staff, settings, now=now, local_now=local_now)
    if not len(due):  # decided for today: nothing to send, and no late digest if something comes up later
        platform, chat_ref, scope = notify.staff_address(staff)
        outbox.add(session, key=key, platform=platform, chat_ref=chat_ref, scope=scope,
                   payload=to_json(Reply()), now=now, staff_id=staff.id, status="skipped")
        return False
    return notify.to_staff(session, staff, key=key, now=now,
                           reply=build_digest(staff, due, settings, now=now, local_now=local_now))


def pending_staff(session: Session, settings: DomainSettings, now: datetime) -> list[tuple[Staff, datetime]]:
    """Active staff whose reminder time has passed today and who have no digest row for today yet."""
    out = []
    for st in session.scalars(select(Staff).where(Staff.active.is_(True)).order_by(Staff.id)):
        try:
            passed, local_now = reminder_passed(st, now, settings)
        except ValueError:  # a malformed reminder time must not stop everyone else's digest
            log.warning("staff %s has a bad reminder time %r", st.id, st.reminder_time)
            continue
        if passed:
            out.append((st, local_now))
    keys = [digest_key(st, ln.date()) for st, ln in out]
    done = set(session.scalars(select(Outbox.key).where(Outbox.key.in_(keys)))) if keys else set()
    return [(st, ln) for st, ln in out if digest_key(st, ln.date()) not in done]


def run_digest(session: Session, *, now: datetime, settings: DomainSettings, channels: dict[str, str]) -> int:
    """Write today's digest for every active staff member whose local reminder time has passed."""
    return each(session, pending_staff(session, settings, now),
                lambda item: _digest_one(session, item[0], settings, now, item[1]), job="followup_digest")


def run_cadence(session: Session, *, now: datetime, settings: DomainSettings, channels: dict[str, str]) -> int:
    """How many customers are behind their grade's cadence. Sends nothing: they are listed in the digest."""
    return len(behind_cadence(session, settings, now=now))
