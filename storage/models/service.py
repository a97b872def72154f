from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class Ticket(SQLModel, table=True):
    """A service ticket (服务工单). SLA deadlines are stored when their clock starts."""

    __tablename__ = "ticket"
    __table_args__ = (Index("ix_ticket_status_assignee", "status", "assignee_id"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    description: str
    type: str = Field(max_length=20, index=True)
    priority: str = Field(max_length=10, index=True)
    status: str = Field(default="pending", max_length=20, index=True)
    assignee_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")  # None: opened by the customer
    resolution: str | None = None
    emotion: str | None = Field(default=None, max_length=20)  # a complaint's customer: 激动/不满/平和/失望 (002 §3.3)
    cause: str | None = Field(default=None, max_length=20)  # a complaint's cause category, for the weekly review
    rating: int | None = None
    rating_comment: str | None = None
    rated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_contact_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    assign_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    contact_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    resolve_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    rating_requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rating_reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TicketEvent(SQLModel, table=True):
    """One entry of a ticket's handling log: created, assigned, accepted, note, resolved, closed, reopened,
    escalated, rated, contacted."""

    __tablename__ = "ticket_event"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    kind: str = Field(max_length=20)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str | None = Field(default=None, max_length=20)
    text: str | None = None
    at: datetime = Field(sa_type=UTCDateTime)


class SlaBreach(SQLModel, table=True):
    """A passed SLA deadline (`kind`: assign, contact, resolve) and its escalations (`level` 1: supervisor
    channel, 2: the owner's sales manager). Unique per ticket, kind and level: each escalates once."""

    __tablename__ = "sla_breach"
    __table_args__ = (UniqueConstraint("ticket_id", "kind", "level"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    kind: str = Field(max_length=10)
    level: int = 1
    due_at: datetime = Field(sa_type=UTCDateTime)
    escalated_at: datetime = Field(sa_type=UTCDateTime)
    met_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # when the late deadline was met
