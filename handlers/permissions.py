"""Who may see and change what (domain.md, seed 002 §5.1).

A rep sees and edits only the customers they own; a manager sees their team's (staff they manage or in their
team, and the pool); agents and supervisors see customer basics and all service records; admin sees all.
A record the actor may not see must answer exactly like one that does not exist (raise `NotFound`).
"""

from __future__ import annotations

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement

from handlers.context import Ctx
from storage.models import Customer, Staff
from storage.repos import staff as staff_repo

SALES = ("rep", "manager")
SERVICE = ("agent", "supervisor")


def team_ids(ctx: Ctx, manager: Staff | None = None) -> set[int]:
    """Ids of the staff a manager is responsible for (reports and same team), themselves included."""
    m = manager or ctx.staff
    if m is None:
        return set()
    return staff_repo.team_ids(ctx.session, m)


def customer_filter(ctx: Ctx) -> ColumnElement[bool]:
    """A WHERE clause selecting the customers the actor may see (never a merged duplicate's tombstone)."""
    return and_(Customer.merged_into_id.is_(None), _visible(ctx))


def _visible(ctx: Ctx) -> ColumnElement[bool]:
    s = ctx.staff
    if s is None:
        if ctx.binding is not None:
            return Customer.id == ctx.binding.customer_id
        return Customer.id == -1
    if s.role in ("admin", "agent", "supervisor"):
        return Customer.id.is_not(None)
    if s.role == "manager":
        return or_(Customer.owner_id.in_(team_ids(ctx)), Customer.owner_id.is_(None))
    return Customer.owner_id == s.id


def can_see_customer(ctx: Ctx, c: Customer) -> bool:
    """Whether the actor may see `c` (a merged duplicate's tombstone: nobody; its code answers through
    `handlers.lookup.merged_into`)."""
    if c.merged_into_id is not None:
        return False
    s = ctx.staff
    if s is None:
        return ctx.binding is not None and ctx.binding.customer_id == c.id
    if s.role in ("admin", "agent", "supervisor"):
        return True
    if s.role == "manager":
        return c.owner_id is None or c.owner_id in team_ids(ctx)
    return c.owner_id == s.id


def can_edit_customer(ctx: Ctx, c: Customer) -> bool:
    """Sales data (fields, follow-ups, opportunities, purchases): owner rep, their manager, admin."""
    s = ctx.staff
    if c.merged_into_id is not None:
        return False
    if s is None:
        return False
    if s.role == "admin":
        return True
    if s.role == "manager":
        return c.owner_id is None or c.owner_id in team_ids(ctx)
    return s.role == "rep" and c.owner_id == s.id


def is_manager_of(ctx: Ctx, staff_id: int | None) -> bool:
    s = ctx.staff
    if s is None or staff_id is None:
        return False
    return s.role == "admin" or (s.role == "manager" and staff_id in team_ids(ctx))
