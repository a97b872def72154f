from __future__ import annotations

from datetime import date as date_t
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, Index, Numeric
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class FollowUp(SQLModel, table=True):
    """A logged contact with a customer (跟进记录). `next_followup_at` schedules the next one."""

    __tablename__ = "followup"
    __table_args__ = (Index("ix_followup_customer_date", "customer_id", "date"),
                      Index("ix_followup_staff_next", "staff_id", "next_followup_at"))

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    date: datetime = Field(sa_type=UTCDateTime)
    method: str = Field(max_length=20)
    content: str
    feedback: str | None = Field(default=None, max_length=20)
    next_followup_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    staff_id: int = Field(foreign_key="staff.id")
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
