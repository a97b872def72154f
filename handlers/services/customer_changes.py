"""Writing a customer's fields: each real change gets its audit entry; contacts, tags and the owner (with the
follow-ups the owner owes) are kept consistent. Shared by direct edits (`customers.edit_customer`) and
approved requests (`approvals.decide`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session

from handlers.lookup import normalize_name
from handlers.services import audit
from handlers.services.followup_owed import move_owed
from handlers.services.purchases import grade_by_purchases
from handlers.settings import DomainSettings
from storage.db import insert_ignore
from storage.models import Contact, Customer, CustomerTag, FollowUp, Staff, Tag
from storage.repos import customers as customer_repo
from storage.repos import staff as staff_repo

CONTACT_FIELDS = {"contact": "name", "title": "title", "phone": "phone", "email": "email"}


def set_tags(session: Session, customer_id: int, tags: list[str]) -> None:
    session.execute(delete(CustomerTag).where(CustomerTag.customer_id == customer_id))
    for name in tags:
        insert_ignore(session, Tag, conflict=["name"], name=name)  # two units of work may name a new tag at once
        session.add(CustomerTag(customer_id=customer_id, tag_id=customer_repo.tag_id(session, name)))
    session.flush()



def _set_contact(session: Session, c: Customer, field: str, value: Any, now: datetime) -> None:
    pc = customer_repo.primary_contact(session, c.id)
    if pc is None:
        pc = Contact(customer_id=c.id, name=c.name, is_primary=True, created_at=now)
        session.add(pc)
    setattr(pc, CONTACT_FIELDS[field], value)


def apply_changes(session: Session, c: Customer, changes: dict[str, Any], *, actor_id: int | None,
                  now: datetime, settings: DomainSettings, cur: dict[str, Any] | None = None,
                  flush: bool = True) -> dict[str, tuple[Any, Any]]:
    """Write the changed fields with one audit entry each. Returns {field: (old, new)} of real changes.
    `cur`: the customer's `current_values`, when the caller has just read them; `flush=False`: the caller
    flushes a batch of edits at once (an import)."""
    cur = cur if cur is not None else customer_repo.current_values(session, c)
    done: dict[str, tuple[Any, Any]] = {}
    for f, new in changes.items():
        old = cur.get(f)
        if f == "grade" and new == "auto":
            c.grade_locked = False
            new = grade_by_purchases(session, c, now=now, settings=settings)
        elif f == "grade":
            c.grade_locked = True
        if new == old:
            continue
        if f == "add_contact":
            session.add(Contact(customer_id=c.id, name=new["contact"], title=new.get("title"),
                                phone=new.get("phone"), email=new.get("email"), created_at=now))
            new = " · ".join(str(v) for v in new.values() if v)
        elif f in CONTACT_FIELDS:
            _set_contact(session, c, f, new, now)
        elif f == "tags":
            set_tags(session, c.id, new)
        elif f == "owner":
            c.owner_id, c.pooled_at = new, None
            move_owed(session, where=FollowUp.customer_id == c.id, to=session.get(Staff, new) if new else None,
                      actor_id=actor_id, action="update", now=now)
            old, new = (staff_repo.name_of(session, x) for x in (old, new))
        else:
            setattr(c, f, new)
            if f == "name":
                c.name_norm = normalize_name(new)
        audit.record(session, actor_id=actor_id, action="update", entity="customer", entity_id=c.id,
                     entity_code=c.code, field=f, old=old, new=new, now=now)
        done[f] = (old, new)
    if done:
        c.updated_at = now
    if flush:
        session.flush()
    return done
