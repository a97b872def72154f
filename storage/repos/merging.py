"""Moving everything of one customer to another (`/customer merge`): every row of every table that refers to
`customer.id`, found from the tables' own foreign keys, so a table added later (custom field values,
reminders, …) moves too without touching this module; and the customer's own audit entries.

Where the customer is part of a unique key (a tag, a field value per customer), the duplicate's row that
would collide with one the survivor already has is dropped first: the survivor's value wins.
"""

from __future__ import annotations

from sqlalchemy import Column, Table, and_, delete, exists, func, select, update
from sqlmodel import Session, SQLModel

from storage.models import AuditLog, Customer


def references() -> list[tuple[Table, Column]]:
    """(table, column) of every foreign key to `customer.id`, in a stable order (by table, then column)."""
    target = Customer.__table__.c.id
    out = [(t, fk.parent) for t in SQLModel.metadata.sorted_tables for fk in t.foreign_keys
           if fk.column is target]
    return sorted(out, key=lambda tc: (tc[0].name, tc[1].name))


def _unique_sets(table: Table, col: Column) -> list[list[Column]]:
    """The unique keys of `table` (primary key, unique constraints and indexes) that contain `col`."""
    sets = [list(table.primary_key.columns)]
    sets += [list(c.columns) for c in table.constraints if c.__class__.__name__ == "UniqueConstraint"]
    sets += [list(i.columns) for i in table.indexes if i.unique]
    sets += [[c] for c in table.columns if c.unique]
    return [s for s in sets if any(c is col for c in s)]


def count_rows(session: Session, *, customer_id: int) -> dict[str, int]:
    """How many rows of each referring table (by table name) and of the customer's own audit entries
    (`audit_log`) belong to `customer_id`; tables with none are left out."""
    out: dict[str, int] = {}
    for table, col in references():
        n = session.scalar(select(func.count()).select_from(table).where(col == customer_id)) or 0
        if n:
            out[table.name] = out.get(table.name, 0) + n
    n = session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.entity == "customer", AuditLog.entity_id == customer_id)) or 0
    if n:
        out["audit_log"] = n
    return out


def move_rows(session: Session, *, src_id: int, dst_id: int) -> dict[str, int]:
    """Point every row referring to `src_id` (and its audit entries) at `dst_id`; rows that would break a
    unique key the survivor already fills are deleted. Returns the moved rows by table name. Authors and
    times are untouched: only the customer reference changes."""
    moved: dict[str, int] = {}
    for table, col in references():
        for key in _unique_sets(table, col):
            others = [c for c in key if c is not col]
            twin = table.alias("twin")
            same = and_(twin.c[col.name] == dst_id, *(twin.c[c.name] == c for c in others))
            session.execute(delete(table).where(col == src_id, exists().where(same)))
        res = session.execute(update(table).where(col == src_id).values({col.name: dst_id})
                              .execution_options(synchronize_session=False))
        if res.rowcount:
            moved[table.name] = moved.get(table.name, 0) + res.rowcount
    res = session.execute(update(AuditLog).where(AuditLog.entity == "customer", AuditLog.entity_id == src_id)
                          .values(entity_id=dst_id).execution_options(synchronize_session=False))
    if res.rowcount:
        moved["audit_log"] = res.rowcount
    return moved


def claim_pair(session: Session, *, src_id: int, dst_id: int, now) -> bool:  # noqa: ANN001 - a datetime
    """Mark `src_id` merged into `dst_id` if neither is merged yet, locking both rows in id order (so two
    opposite merges at once cannot both pass). False when either was merged meanwhile: nothing changed."""
    for cid in sorted((src_id, dst_id)):
        values = {"merged_into_id": dst_id, "merged_at": now} if cid == src_id else {"updated_at": now}
        res = session.execute(update(Customer).where(Customer.id == cid, Customer.merged_into_id.is_(None))
                              .values(**values).execution_options(synchronize_session=False))
        if res.rowcount != 1:
            return False
    return True


def survivor_of(session: Session, customer: Customer) -> Customer | None:
    """The customer a tombstone was merged into, following chains (A into B, then B into C gives C)."""
    seen: set[int] = set()
    c = customer
    while c.merged_into_id is not None and c.id not in seen:
        seen.add(c.id)
        nxt = session.get(Customer, c.merged_into_id)
        if nxt is None:
            return None
        c = nxt
    return c if c.merged_into_id is None else None
