"""Purchases and the grade they imply.

Grading rule (decided here): a customer's grade follows the total of its purchases dated within the last
365 days up to now — a rolling year, so a big order keeps a customer at A for twelve months rather than
dropping it on 1 January — against the thresholds `grade_a_min` / `grade_b_min` in settings. A grade set by
a manager (`grade_locked`) is left alone until set back to `auto`.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from sqlmodel import Session

from handlers.context import Ctx
from handlers.errors import Forbidden, NotFound
from handlers.permissions import can_edit_customer, can_see_customer
from handlers.services import audit
from handlers.settings import DomainSettings
from storage.models import Customer, Purchase
from storage.repos.customers import YEAR, yearly_amount, yearly_amounts  # noqa: F401 - the grading year's total


def grade_by_purchases(session: Session, c: Customer, *, now: datetime, settings: DomainSettings) -> str:
    return settings.grade_for(float(yearly_amount(session, c.id, now=now)))


def regrade(session: Session, c: Customer, *, now: datetime, settings: DomainSettings,
            actor_id: int | None = None) -> str | None:
    """Set the grade from purchases unless locked. Returns the new grade if it changed."""
    return regrade_many(session, [c], now=now, settings=settings, actor_id=actor_id).get(c.id)


def regrade_many(session: Session, customers: list[Customer], *, now: datetime, settings: DomainSettings,
                 actor_id: int | None = None) -> dict[int, str]:
    """`regrade` for a batch of customers (an import's), the year's totals in one query. {id: new grade} of
    those whose grade changed (an audit entry each)."""
    free = [c for c in customers if not c.grade_locked]
    totals = yearly_amounts(session, [c.id for c in free], now=now)
    changed: dict[int, str] = {}
    for c in free:
        new = settings.grade_for(float(totals.get(c.id, 0)))
        if new == c.grade:
            continue
        audit.record(session, actor_id=actor_id, action="update", entity="customer", entity_id=c.id,
                     entity_code=c.code, field="grade", old=c.grade, new=new, now=now)
        c.grade, c.updated_at = new, now
        changed[c.id] = new
    return changed


def record_purchase(ctx: Ctx, c: Customer, *, amount: Decimal, product: str, day: date | None = None
                    ) -> tuple[Purchase, str | None]:
    """Record a purchase (dated `day`, local noon; default now) and regrade. Returns (purchase, new grade)."""
    if not can_see_customer(ctx, c):
        raise NotFound("lookup.not_found", query=c.code)
    if not can_edit_customer(ctx, c):
        raise Forbidden("cust.err.edit_forbidden")
    ctx.session.refresh(c, with_for_update=True)  # concurrent purchases queue: each grade counts the other
    when = ctx.now
    if day is not None and day != ctx.now.astimezone(ctx.tz).date():
        when = datetime.combine(day, time(12, 0), tzinfo=ctx.tz)
    p = Purchase(customer_id=c.id, date=when, product=product, amount=amount, staff_id=ctx.staff.id,
                 created_at=ctx.now)
    ctx.session.add(p)
    ctx.session.flush()
    audit.record(ctx.session, actor_id=ctx.staff.id, action="purchase", entity="customer", entity_id=c.id,
                 entity_code=c.code, new=f"{product} ¥{amount}", now=ctx.now)
    new = regrade(ctx.session, c, now=ctx.now, settings=ctx.settings, actor_id=ctx.staff.id)
    ctx.session.flush()
    return p, new
