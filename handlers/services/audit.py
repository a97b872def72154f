"""The audit log: who changed what, when, from what to what (domain.md: every change is audited).

`record(...)` writes one `AuditLog` row in the caller's unit of work; anybody who changes a customer,
follow-up, opportunity or ticket field calls it. `customer_entries(ctx, customer)` reads a customer's entries
(and those of its opportunities, follow-ups and tickets) for managers and admins.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Session

from handlers.context import Ctx
from handlers.errors import Forbidden, NotFound
from handlers.permissions import can_see_customer
from storage.models import AuditLog, Customer
from storage.repos import audit as audit_repo


def _s(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, list | tuple | set):
        return ",".join(str(x) for x in v)
    return str(v)


def record(session: Session, *, actor_id: int | None, action: str, entity: str, entity_id: int,
           entity_code: str | None = None, field: str | None = None, old: object = None, new: object = None,
           now: datetime) -> AuditLog:
    """Write one audit entry (values are stored as text; lists are comma-joined)."""
    row = AuditLog(**entry(actor_id=actor_id, action=action, entity=entity, entity_id=entity_id,
                           entity_code=entity_code, field=field, old=old, new=new, now=now))
    session.add(row)
    return row


def record_export(session: Session, *, actor_id: int | None, kind: str, fmt: str, rows: int, now: datetime,
                  via: str) -> AuditLog:
    """An export of personal data: who (a staff member, or `via` the command line and its OS user), what
    kind, in which format, how many rows — never the data."""
    return record(session, actor_id=actor_id, action="export", entity=kind, entity_id=0, field=fmt,
                  new=f"rows={rows} via={via}", now=now)


def entry(*, actor_id: int | None, action: str, entity: str, entity_id: int, entity_code: str | None = None,
          field: str | None = None, old: object = None, new: object = None, now: datetime) -> dict:
    """The columns of one audit entry, as `record` writes it (`record_many` inserts a batch of these)."""
    return {"at": now, "actor_id": actor_id, "action": action[:30], "entity": entity[:30], "entity_id": entity_id,
            "entity_code": entity_code, "field": field[:50] if field else None, "old": _s(old), "new": _s(new)}


def record_many(session: Session, entries: list[dict]) -> None:
    """Write a batch of entries (`entry(...)` each) with one multi-row insert: an import's created rows."""
    if entries:
        session.execute(insert(AuditLog.__table__), entries)


def customer_entries(ctx: Ctx, customer: Customer) -> list[AuditLog]:
    """The audit trail of a customer (newest first), for managers (their team's customers) and admins; the
    page is `handlers.cards.customers.audit_page`."""
    if not can_see_customer(ctx, customer):
        raise NotFound("err.not_found")
    if ctx.role not in ("manager", "admin"):
        raise Forbidden("audit.forbidden")
    return audit_repo.entries_for_customer(ctx.session, customer_id=customer.id)
