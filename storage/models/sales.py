from __future__ import annotations

from datetime import date as date_t
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, Index, Numeric
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

# Who owes an open follow-up of a database that predates `assignee_id`: the customer's owner (whom the
# reminders went to); for the others, the author. Migration 0002 runs the same statement.
ASSIGNEE_BACKFILL = ("CASE WHEN done_at IS NULL AND next_followup_at IS NOT NULL AND deleted_at IS NULL "
                     "THEN (SELECT owner_id FROM customer WHERE customer.id = followup.customer_id) "
                     "ELSE staff_id END")


def _author(context) -> int | None:  # noqa: ANN001 - SQLAlchemy's default-function context
    """Inserting a follow-up without an assignee: the author owes the next one."""
    return context.get_current_parameters().get("staff_id")


class FollowUp(SQLModel, table=True):
    """A logged contact with a customer (跟进记录). `next_followup_at` schedules the next one.

    `staff_id` is the author (跟进人: who made this contact) and never changes. `assignee_id` is who owes the
    next follow-up: the customer's owner when it was logged (else the author); a handover, claim or pool
    return moves it with the customer (None: the customer is in the pool, nobody owes it).
    """

    __tablename__ = "followup"
    __table_args__ = (Index("ix_followup_customer_date", "customer_id", "date"),
                      Index("ix_followup_staff_next", "staff_id", "next_followup_at"),
                      Index("ix_followup_assignee_next", "assignee_id", "next_followup_at"))

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    date: datetime = Field(sa_type=UTCDateTime)
    method: str = Field(max_length=20)
    content: str
    feedback: str | None = Field(default=None, max_length=20)
    next_followup_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    staff_id: int = Field(foreign_key="staff.id")
    assignee_id: int | None = Field(default=None, foreign_key="staff.id", sa_column_kwargs={
        "default": _author, "info": {"backfill": ASSIGNEE_BACKFILL}})
    result: str | None = Field(default=None, max_length=20)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the next follow-up was done/cleared
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # undo


class Opportunity(SQLModel, table=True):
    __tablename__ = "opportunity"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    name: str = Field(max_length=200)
    expected_amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2)))
    expected_close_date: date_t | None = None
    stage: str = Field(default="initial", max_length=20, index=True)
    competitors: str | None = Field(default=None, max_length=500)
    strengths: str | None = None
    weaknesses: str | None = None
    owner_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    actual_amount: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2)))
    contract_no: str | None = Field(default=None, max_length=100)
    lost_reason: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class OpportunityStage(SQLModel, table=True):
    """One stage change of an opportunity, with its progress note."""

    __tablename__ = "opportunity_stage"

    id: int | None = Field(default=None, primary_key=True)
    opportunity_id: int = Field(foreign_key="opportunity.id", index=True)
    from_stage: str | None = Field(default=None, max_length=20)
    to_stage: str = Field(max_length=20)
    note: str | None = None
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    at: datetime = Field(sa_type=UTCDateTime)
