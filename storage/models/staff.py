from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class Staff(SQLModel, table=True):
    """A member of staff. `role` is one of admin, manager, rep, agent, supervisor (domain.md)."""

    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("slack_id"), UniqueConstraint("telegram_id"), UniqueConstraint("name"))

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    role: str = Field(max_length=20, index=True)
    team: str | None = Field(default=None, max_length=100)
    manager_id: int | None = Field(default=None, foreign_key="staff.id")
    tz: str = Field(default="Asia/Shanghai", max_length=64)
    lang: str = Field(default="en", max_length=5)
    notify: str = Field(default="console", max_length=10)  # slack | telegram | console
    reminder_time: str = Field(default="09:00", max_length=5)  # HH:MM local
    active: bool = Field(default=True, index=True)
    slack_id: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=200, index=True)  # matched to a Slack user by email
    telegram_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(sa_type=UTCDateTime)
