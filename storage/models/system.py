from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class ApprovalRequest(SQLModel, table=True):
    """A change that waits for a manager (editing key fields of a `deal` customer). `changes` is JSON."""

    __tablename__ = "approval_request"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    requested_by_id: int = Field(foreign_key="staff.id")
    approver_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    changes: str
    status: str = Field(default="pending", max_length=10, index=True)  # pending | approved | rejected
    decided_by_id: int | None = Field(default=None, foreign_key="staff.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="staff.id")
    action: str = Field(max_length=30)  # create | update | delete | handover | claim | pool_return | …
    entity: str = Field(max_length=30)
    entity_id: int
    entity_code: str | None = Field(default=None, max_length=40)
    field: str | None = Field(default=None, max_length=50)
    old: str | None = None
    new: str | None = None


class Outbox(SQLModel, table=True):
    """An outbound message waiting for delivery. `key` is the idempotency key: one row per key, ever.

    `payload` is a serialised `handlers.views.Reply`. `edit_key` names an earlier row whose sent message this
    row edits in place. `status`: pending → sending → sent | failed.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    platform: str = Field(max_length=10)
    chat_ref: str = Field(max_length=64)
    scope: str = Field(max_length=80)  # what button tokens are bound to (see handlers.actions)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    payload: str
    edit_key: str | None = Field(default=None, max_length=200)
    status: str = Field(default="pending", max_length=10)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message_ref: str | None = Field(default=None, max_length=100)  # the platform's id of the sent message
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Setting(SQLModel, table=True):
    """Settings changed at run time (and generated secrets). Values are JSON."""

    __tablename__ = "setting"

    key: str = Field(primary_key=True, max_length=100)
    value: str
    updated_at: datetime = Field(sa_type=UTCDateTime)


class CodeCounter(SQLModel, table=True):
    """Per-series sequence for gap-free codes (`cust:2026`, `fw:2026`, `op:ABC2026001`)."""

    __tablename__ = "code_counter"

    series: str = Field(primary_key=True, max_length=60)
    value: int = 0


class DialogState(SQLModel, table=True):
    """The step a guided dialog is at, per platform, chat and user. `values` is JSON."""

    __tablename__ = "dialog_state"
    __table_args__ = (UniqueConstraint("platform", "chat_ref", "user_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=10)
    chat_ref: str = Field(max_length=64)
    user_ref: str = Field(max_length=64)
    dialog: str = Field(max_length=50)
    step: int = 0
    values: str = "{}"
    expires_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ActionRef(SQLModel, table=True):
    """A button's command that is too long for a token; the token carries `#<id>`."""

    __tablename__ = "action_ref"

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=80)
    cmd: str
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class ProcessedUpdate(SQLModel, table=True):
    """Inbound deliveries already handled (Telegram update_id, Slack event/retry keys): dedupe."""

    __tablename__ = "processed_update"
    __table_args__ = (UniqueConstraint("platform", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=10)
    key: str = Field(max_length=120)
    at: datetime = Field(sa_type=UTCDateTime, index=True)


class MessageRef(SQLModel, table=True):
    """Where a message about an entity was posted (the supervisor's ticket post), to edit it later."""

    __tablename__ = "message_ref"
    __table_args__ = (UniqueConstraint("key", "platform"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120)
    platform: str = Field(max_length=10)
    chat_ref: str = Field(max_length=64)
    message_ref: str = Field(max_length=100)
    at: datetime = Field(sa_type=UTCDateTime)


class SchedulerLease(SQLModel, table=True):
    """Which instance runs the scheduler (PostgreSQL: advisory lock as well; SQLite: one instance)."""

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=50)
    holder: str = Field(max_length=100)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class JobRun(SQLModel, table=True):
    """A record of each job run, for `crm-bot jobs list` and missed-run catch-up."""

    __tablename__ = "job_run"
    __table_args__ = (Index("ix_job_run_name_at", "name", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    items: int = 0
    error: str | None = Field(default=None, max_length=500)
