"""The outbox repository: one row per idempotency key; claim, mark sent, mark failed, retry.

Rows are written in the unit of work of the change that causes them. A key that exists already is a no-op,
so whatever runs twice sends once. Claiming uses `FOR UPDATE SKIP LOCKED` on PostgreSQL so that several
senders never take the same row; on SQLite one instance delivers (the write lock serialises claims).

Statuses: `pending` → `sending` (claimed by one worker) → `sent` | `failed`; `skipped` marks a key that was
decided without a message (a digest day with nothing due) and is never delivered.

Order: a row is claimed only when no earlier row to the same chat is still pending or being sent, so a chat
gets its messages in the order they were written (the "ticket closed" before the rating question), also across
retries; a failed row no longer holds the chat up.

A claim older than `claim_timeout` is taken to belong to a dead worker and is claimed again. That is the one
message that may go out twice: it was handed to the platform but the worker died before marking it sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy import exists as sql_exists
from sqlalchemy.orm import aliased
from sqlmodel import Session

from storage.db import begin_immediate, insert_ignore, insert_ignore_many, unit_of
from storage.models import Outbox

STALE_CLAIM = timedelta(minutes=5)
STRIPPED = ""  # the payload of a sent row once its text is dropped (only pending rows are ever read)


def write_lock(session: Session) -> None:
    """On SQLite, hold the write lock from here on, for a unit of work that reads, then writes.

    A write unit of work holds it from its start already (storage/db.py); a read unit joins the writer queue
    here. A session outside any unit of work takes SQLite's lock with `BEGIN IMMEDIATE` when its transaction
    has not begun. No-op on PostgreSQL.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    unit = unit_of(session)
    if unit is not None:
        if not unit.write:
            unit.hold()
        return
    if session.in_transaction():
        return
    conn = session.connection()
    if not getattr(conn.connection.dbapi_connection, "in_transaction", True):  # a shared test connection may be
        begin_immediate(conn)                                                  # in another session's transaction


MAX_ATTEMPTS = 8


def add(session: Session, *, key: str, platform: str, chat_ref: str, scope: str, payload: str, now: datetime,
        staff_id: int | None = None, edit_key: str | None = None, status: str = "pending",
        due: datetime | None = None) -> bool:
    """Insert a row unless one with `key` exists (first attempt at `due`, default now). True when added."""
    values = row(key=key, platform=platform, chat_ref=chat_ref, scope=scope, payload=payload, now=now,
                 staff_id=staff_id, edit_key=edit_key, status=status, due=due)
    return insert_ignore(session, Outbox, conflict=["key"], **values)


def row(*, key: str, platform: str, chat_ref: str, scope: str, payload: str, now: datetime,
        staff_id: int | None = None, edit_key: str | None = None, status: str = "pending",
        due: datetime | None = None) -> dict:
    """The values of a new row, as `add` writes them (for `add_many`)."""
    return dict(key=key, platform=platform, chat_ref=chat_ref, scope=scope, payload=payload,
                staff_id=staff_id, edit_key=edit_key, status=status, attempts=0,
                next_attempt_at=due or now, created_at=now)


def add_many(session: Session, rows: list[dict]) -> set[str]:
    """Insert `rows` (made by `row`) in one statement, each unless a row with its key exists: the keys added."""
    return insert_ignore_many(session, Outbox, conflict=["key"], rows=rows, returning="key")


def _first_in_chat():  # noqa: ANN202 - a SQL condition
    """No earlier row to the same chat is still unsent: one chat gets its messages in the order they were
    written, also when an earlier one waits for a retry or is being sent by another worker."""
    earlier = aliased(Outbox)
    return ~sql_exists().where(earlier.platform == Outbox.platform, earlier.chat_ref == Outbox.chat_ref,
                           earlier.id < Outbox.id, earlier.status.in_(("pending", "sending")))


def claim(session: Session, *, worker: str, now: datetime, limit: int = 20,
          platforms: tuple[str, ...] | None = None, chats: tuple[str, ...] | None = None,
          claim_timeout: timedelta = STALE_CLAIM, held: Iterable[tuple[str, str]] = ()) -> list[Outbox]:
    """Take up to `limit` due rows for `worker` (pending and due, or a stale claim of a dead worker), each the
    oldest unsent row of its chat. `held`: (platform, chat_ref) pairs whose rows must wait for now."""
    write_lock(session)
    q = (select(Outbox)
         .where(((Outbox.status == "pending") & (Outbox.next_attempt_at <= now))
                | ((Outbox.status == "sending") & (Outbox.claimed_at < now - claim_timeout)))
         .where(_first_in_chat())
         .order_by(Outbox.id).limit(limit))
    if platforms:
        q = q.where(Outbox.platform.in_(platforms))
    if chats:
        q = q.where(Outbox.chat_ref.in_(chats))
    held = list(held)
    if held:
        q = q.where(~or_(*(and_(Outbox.platform == p, Outbox.chat_ref == c) for p, c in held)))
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    rows = list(session.scalars(q))
    for r in rows:
        r.status, r.claimed_by, r.claimed_at = "sending", worker, now
        r.attempts += 1
    session.flush()
    return rows


def _mine(row_id: int, worker: str | None):  # noqa: ANN202 - a SQL condition
    cond = Outbox.id == row_id
    if worker is not None:  # only the worker that holds the claim books the outcome
        cond = cond & (Outbox.status == "sending") & (Outbox.claimed_by == worker)
    return cond


def mark_sent(session: Session, row_id: int, *, now: datetime, message_ref: str | None,
              worker: str | None = None) -> bool:
    res = session.execute(update(Outbox).where(_mine(row_id, worker))
                          .values(status="sent", sent_at=now, message_ref=message_ref, last_error=None))
    return bool(res.rowcount)


def mark_retry(session: Session, row_id: int, *, now: datetime, delay: timedelta, error: str,
               max_attempts: int = MAX_ATTEMPTS, worker: str | None = None) -> str | None:
    """Put a row back for a later attempt, or fail it after `max_attempts`. Returns the new status."""
    write_lock(session)
    row = session.scalar(select(Outbox).where(_mine(row_id, worker)))
    if row is None:
        return None
    row.last_error = error[:500]
    if row.attempts >= max_attempts:
        row.status = "failed"
    else:
        row.status, row.next_attempt_at = "pending", now + delay
    session.flush()
    return row.status


def mark_failed(session: Session, row_id: int, *, error: str, worker: str | None = None) -> None:
    session.execute(update(Outbox).where(_mine(row_id, worker)).values(status="failed", last_error=error[:500]))


def sent_ref(session: Session, key: str) -> Outbox | None:
    return session.scalar(select(Outbox).where(Outbox.key == key))


def exists(session: Session, key: str) -> bool:
    return session.scalar(select(Outbox.id).where(Outbox.key == key)) is not None


# ---------------------------------------------------------------- operator views


def list_rows(session: Session, *, status: str | None = None, limit: int = 50) -> list[Outbox]:
    q = select(Outbox).where(Outbox.status != "skipped").order_by(Outbox.id.desc()).limit(limit)
    if status:
        q = q.where(Outbox.status == status)
    return list(session.scalars(q))


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Outbox.status, func.count()).group_by(Outbox.status))
    return {status: n for status, n in rows}


def retry(session: Session, *, now: datetime, row_ids: Iterable[int] = (), all_failed: bool = False) -> int:
    """Put failed rows back in the queue (attempts start again). Returns how many were requeued."""
    q = update(Outbox).where(Outbox.status == "failed")
    if not all_failed:
        ids = list(row_ids)
        if not ids:
            return 0
        q = q.where(Outbox.id.in_(ids))
    res = session.execute(q.values(status="pending", attempts=0, next_attempt_at=now, claimed_by=None,
                                   claimed_at=None))
    return int(res.rowcount or 0)


def oldest_pending(session: Session) -> datetime | None:
    """When the oldest row still waiting for delivery (pending or being sent) was written, if any."""
    return session.scalar(select(func.min(Outbox.created_at)).where(Outbox.status.in_(("pending", "sending"))))
