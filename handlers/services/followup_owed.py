"""Who owes the next follow-up (`FollowUp.assignee_id`), apart from who made the call (`staff_id`).

A follow-up's author never changes. What is owed moves with the customer: a handover, a claim from the
pool, a return to the pool or a new owner set on the customer move the open follow-ups' `assignee_id`
(None: the customer is in the pool, nobody owes it). Each moved follow-up gets an audit row
(`field="assignee"`, from whom to whom), so the audit log says how many moved and between whom.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from handlers.services import audit
from storage.models import Customer, FollowUp, Staff
from storage.repos import followups as followup_repo
from storage.repos import staff as staff_repo


def is_open() -> tuple[ColumnElement[bool], ...]:
    """A follow-up whose next one is still owed (scheduled, not done, not undone)."""
    return (FollowUp.next_followup_at.is_not(None), FollowUp.done_at.is_(None), FollowUp.deleted_at.is_(None))


def assignee_for(customer: Customer, author_id: int) -> int:
    """At log time: the customer's owner owes the next follow-up, else (a pool customer) the author."""
    return customer.owner_id or author_id


def move_owed(session: Session, *, where: ColumnElement[bool], to: Staff | None, actor_id: int | None,
              action: str, now: datetime) -> int:
    """Give the open follow-ups matching `where` to `to` (None: nobody). Returns how many moved."""
    to_id = to.id if to is not None else None
    rows = followup_repo.owed_rows(session, where=where, not_to=to_id)
    if not rows:
        return 0
    names = staff_repo.names(session, {a for _, a, _ in rows})
    for fid, old, code in rows:
        audit.record(session, actor_id=actor_id, action=action, entity="followup", entity_id=fid,
                     entity_code=code, field="assignee", old=names.get(old, old), new=to.name if to else None,
                     now=now)
    session.execute(update(FollowUp).where(FollowUp.id.in_([fid for fid, _, _ in rows]))
                    .values(assignee_id=to_id).execution_options(synchronize_session=False))
    session.flush()
    return len(rows)
