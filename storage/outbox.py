"""The outbox repository: one row per idempotency key; claim, mark sent, mark failed.

Rows are written in the unit of work of the change that causes them. Claiming uses
`FOR UPDATE SKIP LOCKED` on PostgreSQL so that several senders never take the same row; on SQLite one
instance delivers (the write lock serialises claims).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from storage.models import Outbox

STALE_CLAIM = timedelta(minutes=5)


def add(session: Session, *, key: str, platform: str, chat_ref: str, scope: str, payload: str, now: datetime,
        staff_id: int | None = None, edit_key: str | None = None) -> bool:
    """Insert a row unless one with `key` exists. True when a row was added."""
    values = dict(key=key, platform=platform, chat_ref=chat_ref, scope=scope, payload=payload,
                  staff_id=staff_id, edit_key=edit_key, status="pending", attempts=0,
                  next_attempt_at=now, created_at=now)
    ins = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = ins(Outbox).values(**values).on_conflict_do_nothing(index_elements=["key"]).returning(Outbox.id)
    res = session.execute(stmt)
    return res.first() is not None  # not rowcount: it is -1 on PostgreSQL for this statement


def claim(session: Session, *, worker: str, now: datetime, limit: int = 20,
          platforms: tuple[str, ...] | None = None, chats: tuple[str, ...] | None = None) -> list[Outbox]:
    """Take up to `limit` due rows for `worker` (pending and due, or a stale claim of a dead worker)."""
    q = (select(Outbox)
         .where(((Outbox.status == "pending") & (Outbox.next_attempt_at <= now))
                | ((Outbox.status == "sending") & (Outbox.claimed_at < now - STALE_CLAIM)))
         .order_by(Outbox.id).limit(limit))
    if platforms:
        q = q.where(Outbox.platform.in_(platforms))
    if chats:
        q = q.where(Outbox.chat_ref.in_(chats))
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    rows = list(session.scalars(q))
    for r in rows:
        r.status, r.claimed_by, r.claimed_at = "sending", worker, now
        r.attempts += 1
    session.flush()
    return rows


def mark_sent(session: Session, row_id: int, *, now: datetime, message_ref: str | None) -> None:
    session.execute(update(Outbox).where(Outbox.id == row_id)
                    .values(status="sent", sent_at=now, message_ref=message_ref, last_error=None))


def mark_retry(session: Session, row_id: int, *, now: datetime, delay: timedelta, error: str,
               max_attempts: int = 8) -> None:
    row = session.get(Outbox, row_id)
    if row is None:
        return
    row.last_error = error[:500]
    if row.attempts >= max_attempts:
        row.status = "failed"
    else:
        row.status, row.next_attempt_at = "pending", now + delay
    session.flush()


def mark_failed(session: Session, row_id: int, *, error: str) -> None:
    session.execute(update(Outbox).where(Outbox.id == row_id).values(status="failed", last_error=error[:500]))


def sent_ref(session: Session, key: str) -> Outbox | None:
    return session.scalar(select(Outbox).where(Outbox.key == key))
