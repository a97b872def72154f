"""Test data builders. Keyword-only, with sensible defaults."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from storage import codes
from storage.models import Contact, Customer, Staff

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Asia/Shanghai


def staff(session: Session, *, name: str, role: str = "rep", team: str | None = "east", manager: Staff | None = None,
          lang: str = "en", tz: str = "Asia/Shanghai", slack_id: str | None = None,
          telegram_id: int | None = None, notify: str | None = None, active: bool = True,
          email: str | None = None) -> Staff:
    if notify is None:
        notify = "slack" if slack_id else "telegram" if telegram_id else "console"
    s = Staff(name=name, role=role, team=team, manager_id=manager.id if manager else None, lang=lang, tz=tz,
              slack_id=slack_id, telegram_id=telegram_id, email=email, notify=notify, active=active,
              created_at=NOW)
    session.add(s)
    session.flush()
    return s


def east_and_west(session: Session, *, admin: bool = True) -> tuple[Staff, Staff, Staff, Staff]:
    """The reports' organisation: mary manages alice and bob (team east); zed is in team west, managed by nobody;
    with `admin`, root is an admin. Returns (mary, alice, bob, zed)."""
    mary = staff(session, name="mary", role="manager", team="east")
    alice = staff(session, name="alice", team="east", manager=mary)
    bob = staff(session, name="bob", team="east", manager=mary)
    zed = staff(session, name="zed", team="west")
    if admin:
        staff(session, name="root", role="admin", team=None)
    return mary, alice, bob, zed


def customer(session: Session, *, name: str, owner: Staff | None = None, industry: str = "IT",
             type: str = "intent", grade: str = "B", contact: str | None = "张伟", phone: str | None = None,
             email: str | None = None, now: datetime = NOW, abbr: str = "ABC") -> Customer:
    import re

    c = Customer(code=codes.customer_code(session, abbr=abbr, year=now.year), name=name,
                 name_norm=re.sub(r"\W", "", name.lower()), industry=industry, type=type, grade=grade,
                 owner_id=owner.id if owner else None, created_by_id=owner.id if owner else None,
                 created_at=now, updated_at=now)
    session.add(c)
    session.flush()
    if contact:
        session.add(Contact(customer_id=c.id, name=contact, phone=phone, email=email, is_primary=True,
                            created_at=now))
        session.flush()
    return c
