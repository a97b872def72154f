"""`first_contact`: a new lead (type `potential`) must get its first follow-up within 24 hours.

`CRM_FIRST_CONTACT_REMIND` (20 h) after creation with no follow-up logged → a reminder to its owner while there is
still time, once (`first_contact_reminded_at`). `CRM_FIRST_CONTACT_WINDOW` (24 h) → a note to the owner's manager (no
manager: the admins) with Remind and Reassign buttons, once (`first_contact_escalated_at`). Only leads created
within `WINDOW` are looked at, so switching the job on does not flood anyone about old customers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from handlers import notify
from handlers.cards.reminders import first_contact_escalation, first_contact_reminder
from handlers.services.followups import SALES_METHODS
from handlers.settings import DomainSettings
from scheduler.jobs import each, zone
from storage.models import Customer, Staff
from storage.repos import reminders as repo

WINDOW = timedelta(days=7)


def _leads(session: Session, *, now: datetime, age: timedelta, stamp) -> list[Customer]:  # noqa: ANN001
    # a complaint's trace (method `service`) is no sales contact: only SALES_METHODS count
    return repo.new_leads_without_followup(session, created_from=now - WINDOW, created_to=now - age, stamp=stamp,
                                           methods=SALES_METHODS)


def _remind(session: Session, c: Customer, now: datetime, settings: DomainSettings) -> bool:
    owner = session.get(Staff, c.owner_id)
    c.first_contact_reminded_at = now
    if owner is None or not owner.active:
        return False
    deadline = c.created_at + settings.first_contact_window
    reply = first_contact_reminder(owner.lang, c, hours=_hours(now - c.created_at), left=_hours(deadline - now),
                                   deadline=deadline.astimezone(zone(owner.tz, settings.default_tz)))
    return notify.to_staff(session, owner, key=f"first_contact:{c.id}", reply=reply, now=now)


def _hours(d: timedelta) -> int:
    return max(0, int(d.total_seconds() // 3600))


def _escalation_to(session: Session, owner: Staff | None) -> list[Staff]:
    """The owner's manager; an owner without an active one escalates to the active admins."""
    manager = session.get(Staff, owner.manager_id) if owner and owner.manager_id else None
    if manager is not None and manager.active:
        return [manager]
    return repo.active_staff(session, role="admin")


def _escalate(session: Session, c: Customer, now: datetime, settings: DomainSettings) -> bool:
    owner = session.get(Staff, c.owner_id)
    c.first_contact_escalated_at = now
    sent = False
    for st in _escalation_to(session, owner):
        sent |= notify.to_staff(session, st, key=f"first_contact_escalation:{c.id}:{st.id}",
                                reply=first_contact_escalation(st.lang, c, owner, hours=_hours(now - c.created_at)),
                                now=now)
    return sent


def run(session: Session, *, now: datetime, settings: DomainSettings, channels: dict[str, str]) -> int:
    n = each(session, _leads(session, now=now, age=settings.first_contact_remind,
                             stamp=Customer.first_contact_reminded_at),
             lambda c: _remind(session, c, now, settings), job="first_contact")
    n += each(session, _leads(session, now=now, age=settings.first_contact_window,
                              stamp=Customer.first_contact_escalated_at),
              lambda c: _escalate(session, c, now, settings), job="first_contact")
    return n
