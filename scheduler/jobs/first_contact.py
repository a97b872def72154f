"""`first_contact`: a new lead (type `potential`) must get its first follow-up within 24 hours.

24 hours after creation with no follow-up logged → a reminder to its owner, once (`first_contact_reminded_at`).
48 hours → a note to the owner's manager (no manager: the admins), once (`first_contact_escalated_at`). Only leads created within
`WINDOW` are looked at, so switching the job on does not flood anyone about old customers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlmodel import Session

from handlers import notify
from handlers.i18n import t
from handlers.services.followups import SALES_METHODS
from handlers.settings import DomainSettings
from handlers.views import Action, Button, Buttons, Reply, Text
from scheduler.jobs import each
from storage.models import Customer, FollowUp, Staff

REMIND_AFTER = timedelta(hours=24)
ESCALATE_AFTER = timedelta(hours=48)
WINDOW = timedelta(days=7)


def _no_followup():  # noqa: ANN202 - a SQL condition
    return ~exists().where(FollowUp.customer_id == Customer.id, FollowUp.deleted_at.is_(None),
                           FollowUp.method.in_(SALES_METHODS))  # a complaint's trace is no sales contact


def _leads(session: Session, *, now: datetime, age: timedelta, stamp) -> list[Customer]:  # noqa: ANN001
    q = (select(Customer)
         .where(Customer.type == "potential", Customer.owner_id.is_not(None), stamp.is_(None),
                Customer.created_at <= now - age, Customer.created_at > now - WINDOW, _no_followup())
         .order_by(Customer.id))
    return list(session.scalars(q))


def _remind(session: Session, c: Customer, now: datetime) -> bool:
    owner = session.get(Staff, c.owner_id)
    c.first_contact_reminded_at = now
    if owner is None or not owner.active:
        return False
    lang = owner.lang
    reply = Reply(views=(Text(t(lang, "job.first.remind", code=c.code, name=c.name)),
                         Buttons((Button(t(lang, "job.digest.log"), Action(f"/log {c.code}"), "primary"),))),
                  text=t(lang, "job.first.remind", code=c.code, name=c.name))
    return notify.to_staff(session, owner, key=f"first_contact:{c.id}", reply=reply, now=now)


def _escalation_to(session: Session, owner: Staff | None) -> list[Staff]:
    """The owner's manager; an owner without an active one escalates to the active admins."""
    manager = session.get(Staff, owner.manager_id) if owner and owner.manager_id else None
    if manager is not None and manager.active:
        return [manager]
    return list(session.scalars(select(Staff).where(Staff.role == "admin", Staff.active.is_(True)).order_by(Staff.id)))


def _escalate(session: Session, c: Customer, now: datetime) -> bool:
    owner = session.get(Staff, c.owner_id)
    c.first_contact_escalated_at = now
    sent = False
    for st in _escalation_to(session, owner):
        text = t(st.lang, "job.first.escalate", code=c.code, name=c.name, owner=owner.name if owner else "—")
        sent |= notify.to_staff(session, st, key=f"first_contact_escalation:{c.id}:{st.id}",
                                reply=Reply(views=(Text(text),), text=text), now=now)
    return sent


def run(session: Session, *, now: datetime, settings: DomainSettings, channels: dict[str, str]) -> int:
    n = each(session, _leads(session, now=now, age=REMIND_AFTER, stamp=Customer.first_contact_reminded_at),
             lambda c: _remind(session, c, now), job="first_contact")
    n += each(session, _leads(session, now=now, age=ESCALATE_AFTER, stamp=Customer.first_contact_escalated_at),
              lambda c: _escalate(session, c, now), job="first_contact")
    return n
