from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Column, Index, Numeric, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from storage import textindex
from storage.types import UTCDateTime


class Customer(SQLModel, table=True):
    """A customer (domain.md). `owner_id` None means the customer is in the pool; `merged_into_id` set means
    a merged duplicate kept only so that its code still resolves (see `handlers.services.merge`)."""

    __tablename__ = "customer"
    # an owner's customers least recently contacted first: the digest's "behind their cadence", a few per rep
    __table_args__ = (Index("ix_customer_owner_last", "owner_id", "last_followup_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200, index=True)
    name_norm: str = Field(max_length=200, index=True)  # lower-case, no spaces/punctuation/company suffix
    industry: str = Field(max_length=50, index=True)
    type: str = Field(max_length=20, index=True)
    grade: str = Field(default="C", max_length=1, index=True)
    grade_locked: bool = False  # set by hand by a manager: purchases no longer change it
    address: str | None = Field(default=None, max_length=500)
    demand: str | None = None
    source: str | None = Field(default=None, max_length=100)
    notes: str | None = None
    owner_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    last_followup_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_followup_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    pooled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_contact_reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_contact_escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # a tombstone: merged into another customer (`/customer merge`); its code still resolves to the survivor,
    # it is never listed, searched or counted
    merged_into_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    merged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # personal data erased (/customer forget)


class Contact(SQLModel, table=True):
    __tablename__ = "contact"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    name: str = Field(max_length=100, index=True)
    title: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32, index=True)
    email: str | None = Field(default=None, max_length=200, index=True)
    # what searches compare with `=` on an index, set from phone/email on every save (`_normalise`)
    phone_norm: str | None = Field(default=None, max_length=32, index=True)
    email_norm: str | None = Field(default=None, max_length=200, index=True)
    is_primary: bool = False
    created_at: datetime = Field(sa_type=UTCDateTime)


def contact_norms(phone: str | None, email: str | None) -> dict[str, str | None]:
    """The searchable forms of a contact's phone and e-mail: what every save sets (`_normalise`) and what a bulk
    insert of contact rows (an import) must carry itself, since it bypasses the ORM's events."""
    return {"phone_norm": textindex.normalize_phone(phone) if phone else None,
            "email_norm": textindex.normalize_email(email) if email else None}


@event.listens_for(Contact, "before_insert")
@event.listens_for(Contact, "before_update")
def _normalise(_mapper, _connection, c: Contact) -> None:  # noqa: ANN001
    for k, v in contact_norms(c.phone, c.email).items():
        setattr(c, k, v)


# create_all makes the customers' text index with the table (migration 0004 does it for migrated databases)
event.listen(Customer.__table__, "after_create", lambda _table, connection, **_kw: textindex.install(connection))


class Tag(SQLModel, table=True):
    __tablename__ = "tag"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50, unique=True)


class CustomerTag(SQLModel, table=True):
    __tablename__ = "customer_tag"

    customer_id: int = Field(foreign_key="customer.id", primary_key=True)
    tag_id: int = Field(foreign_key="tag.id", primary_key=True, index=True)


class Purchase(SQLModel, table=True):
    __tablename__ = "purchase"
    __table_args__ = (Index("ix_purchase_customer_date", "customer_id", "date"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    date: datetime = Field(sa_type=UTCDateTime)
    product: str = Field(max_length=200)
    amount: Decimal = Field(sa_column=Column(Numeric(14, 2), nullable=False))
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime = Field(sa_type=UTCDateTime)


class ChatBinding(SQLModel, table=True):
    """A customer's chat (a Telegram chat, a Slack channel) bound to one of their contacts."""

    __tablename__ = "chat_binding"
    __table_args__ = (UniqueConstraint("platform", "chat_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=10)
    chat_ref: str = Field(max_length=64)
    user_ref: str | None = Field(default=None, max_length=64)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    lang: str = Field(default="zh", max_length=5)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Invite(SQLModel, table=True):
    """A one-time invite for a customer's chat. Only the SHA-256 of the token is stored."""

    __tablename__ = "invite"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    customer_id: int = Field(foreign_key="customer.id")
    contact_id: int = Field(foreign_key="contact.id")
    created_by_id: int = Field(foreign_key="staff.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_chat: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
