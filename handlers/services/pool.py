"""The pool (公海): customers without an owner. Reps claim them (up to `pool_claim_cap` owned customers);
owners who leave a customer without a follow-up for `pool_return_days` lose it back to the pool.

The return rule: an owned customer whose latest of (last follow-up, creation, last change of owner) is
more than `pool_return_days` ago goes back to the pool; the owner gets one message per batch of returned
customers (`POOL_BATCH`; usually one a night). The job selects the candidates without holding SQLite's writer
lock and returns them owner by owner in batches, each committed with its message and checking the rule again
under the lock: a catch-up of tens of thousands of customers never holds the lock for long, and a run cut
short and run again returns and tells each customer once.
`pool_warn_days` before that, the owner is warned once per quiet spell (`warnings_due`, `warn`), with Log and
Keep buttons; Keep (`keep`) holds only once a follow-up was logged (a real contact is what resets the clock).
Claims are a conditional UPDATE (`… WHERE owner_id IS NULL`), so of two reps claiming at once one wins; a rep's
claims queue on the rep's staff row (`lock_row`), so concurrent claims cannot pass the cap together.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from handlers import inputs, notify
from handlers.cards import customers as cards
from handlers.cards import team as team_cards
from handlers.context import Ctx
from handlers.errors import Conflict, Forbidden, NotFound
from handlers.lookup import normalize_name
from handlers.permissions import can_edit_customer, can_see_customer
from handlers.services import audit
from handlers.services.followup_owed import move_owed
from handlers.settings import DomainSettings
from storage.db import lock_row, write_batch
from storage.models import Customer, FollowUp, Staff
from storage.repos import audit as audit_repo
from storage.repos import customers as customer_repo
from storage.repos import staff as staff_repo
from storage.repos import team as team_repo

OWNER_CHANGES = ("claim", "handover")
POOL_BATCH = 500  # customers of one owner returned (and told) per transaction


def find_pooled(ctx: Ctx, query: str) -> Customer:
    """A pool customer by code or name; one that was claimed meanwhile is a Conflict, others not found."""
    q = query.strip()
    c = customer_repo.get_by_code(ctx.session, code=inputs.key(q), where=Customer.merged_into_id.is_(None))
    if c is None and normalize_name(q):
        rows = customer_repo.list_pool(ctx.session, where=[Customer.name_norm.contains(normalize_name(q), autoescape=True)],
                                       limit=2)
        c = rows[0] if len(rows) == 1 else None
    if c is None:
        raise NotFound("lookup.not_found", query=q)
    if c.owner_id is not None:
        if c.owner_id == ctx.staff.id:
            raise Conflict("own.err.yours", code=c.code)
        if c.pooled_at is not None or can_see_customer(ctx, c):
            raise Conflict("own.err.taken", code=c.code)
        raise NotFound("lookup.not_found", query=q)
    return c


def claim(ctx: Ctx, c: Customer) -> None:
    s = ctx.session
    lock_row(s, Staff, ctx.staff.id)  # the count below must include the rep's concurrent claims
    owned = staff_repo.owned_customers(s, ctx.staff.id)
    if owned >= ctx.settings.pool_claim_cap:
        raise Forbidden("own.err.cap", cap=ctx.settings.pool_claim_cap)
    res = s.execute(update(Customer).where(Customer.id == c.id, Customer.owner_id.is_(None))
                    .values(owner_id=ctx.staff.id, updated_at=ctx.now,
                            pooled_at=c.pooled_at or ctx.now).execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise Conflict("own.err.taken", code=c.code)
    s.expire(c)
    audit.record(s, actor_id=ctx.staff.id, action="claim", entity="customer", entity_id=c.id, entity_code=c.code,
                 field="owner", old=None, new=ctx.staff.name, now=ctx.now)
    move_owed(s, where=FollowUp.customer_id == c.id, to=ctx.staff, actor_id=ctx.staff.id, action="claim",
              now=ctx.now)
    s.flush()


def return_stale_to_pool(session: Session, *, now: datetime, settings: DomainSettings) -> int:
    """Scheduler job: move customers nobody followed up for `pool_return_days` back to the pool."""
    cutoff = now - timedelta(days=settings.pool_return_days)
    by_owner: dict[int, list[Customer]] = defaultdict(list)
    for c in customer_repo.list_stale(session, before=cutoff):  # in a read unit: without the writer lock
        by_owner[c.owner_id].append(c)
    n = 0
    for owner_id, cs in by_owner.items():
        for i in range(0, len(cs), POOL_BATCH):
            with write_batch(session):
                n += _return_batch(session, owner_id, cs[i:i + POOL_BATCH], cutoff=cutoff, now=now,
                                   settings=settings)
    return n


def _return_batch(session: Session, owner_id: int, cs: list[Customer], *, cutoff: datetime, now: datetime,
                  settings: DomainSettings) -> int:
    """Return those of `cs` (all owned by `owner_id`) that still meet the rule now, and tell their owner."""
    changed = audit_repo.owner_changed_since(session, customer_ids=[c.id for c in cs], actions=OWNER_CHANGES,
                                             since=cutoff)
    last = func.coalesce(Customer.last_followup_at, Customer.created_at)
    owner = session.get(Staff, owner_id)
    returned = []
    for c in cs:
        if c.id in changed:
            continue
        res = session.execute(update(Customer).where(Customer.id == c.id, Customer.owner_id == owner_id, last < cutoff)
                              .values(owner_id=None, pooled_at=now, updated_at=now)
                              .execution_options(synchronize_session=False))
        if res.rowcount != 1:  # followed up or handed over since it was selected
            continue
        for attr, value in (("owner_id", None), ("pooled_at", now), ("updated_at", now)):
            set_committed_value(c, attr, value)
        audit.record(session, actor_id=None, action="pool_return", entity="customer", entity_id=c.id,
                     entity_code=c.code, field="owner", old=owner.name if owner else owner_id, new=None, now=now)
        move_owed(session, where=FollowUp.customer_id == c.id, to=None, actor_id=None, action="pool_return",
                  now=now)
        returned.append(c)
    if returned and owner is not None and owner.active:
        _tell_owner(session, owner, returned, now=now, settings=settings)
    session.flush()
    return len(returned)


def _tell_owner(session: Session, owner: Staff, cs: list[Customer], *, now: datetime,
                settings: DomainSettings) -> None:
    local_day = now.astimezone(ZoneInfo(owner.tz or settings.default_tz)).date().isoformat()
    r = cards.pool_returned(owner.lang, cs, days=settings.pool_return_days)
    # one message per batch: a batch rolled back and done again (a run cut short) keeps its key
    notify.to_staff(session, owner, key=f"pool:{owner.id}:{local_day}:{cs[0].id}", reply=r, now=now)


# ---------------------------------------------------------------- the warning before a return


def quiet_since(session: Session, c: Customer) -> datetime:
    """Where the return rule's clock starts: the latest of last follow-up, creation and last owner change."""
    last = c.last_followup_at or c.created_at
    changed = audit_repo.last_owner_change(session, customer_id=c.id, actions=OWNER_CHANGES)
    return max(last, changed) if changed is not None else last


@dataclass(frozen=True)
class PoolWarning:
    customer: Customer
    owner: Staff
    since: datetime  # the quiet spell's start (`quiet_since`)
    returns_at: datetime  # since + pool_return_days

    @property
    def key(self) -> str:
        """Once per customer, owner and quiet spell: a follow-up (or handover) starts a new spell."""
        return f"pool_warn:{self.customer.id}:{self.owner.id}:{int(self.since.timestamp())}"


def warnings_due(session: Session, *, now: datetime, settings: DomainSettings) -> list[PoolWarning]:
    """Owned customers the pool takes back within `pool_warn_days` (not yet due for the return), with an
    active owner; by owner."""
    if settings.pool_warn_days <= 0:
        return []
    back, warn = timedelta(days=settings.pool_return_days), timedelta(days=settings.pool_warn_days)
    rows = team_repo.pool_candidates(session, quiet_until=now - back + warn)
    changed = team_repo.last_owner_changes(session, customer_ids=[c.id for c in rows], actions=OWNER_CHANGES)
    out = []
    for c in rows:
        since = max(filter(None, (c.last_followup_at or c.created_at, changed.get(c.id))))
        owner = session.get(Staff, c.owner_id)
        if now - back <= since <= now - back + warn and owner is not None and owner.active:
            out.append(PoolWarning(c, owner, since, since + back))
    return out


def warn(session: Session, w: PoolWarning, *, now: datetime, settings: DomainSettings) -> bool:
    """Tell the owner, once per quiet spell. True when the message was written now."""
    tz = ZoneInfo(w.owner.tz or settings.default_tz)
    left = max(0, (w.returns_at.astimezone(tz).date() - now.astimezone(tz).date()).days)
    r = team_cards.pool_warning(w.owner.lang, w.customer, on=w.returns_at.astimezone(tz).date(), days=left,
                                quiet=(now - w.since).days)
    return notify.to_staff(session, w.owner, key=w.key, reply=r, now=now)


@dataclass(frozen=True)
class KeepResult:
    kept: bool  # False: no follow-up since the warning; the customer still returns at `returns_at`
    since: datetime
    returns_at: datetime


def keep(ctx: Ctx, c: Customer) -> KeepResult:
    """Keep a customer the pool would take back: holds when a follow-up (or a change of owner) moved the
    return date beyond the warning window; otherwise says a follow-up is needed. Changes nothing itself."""
    if not can_see_customer(ctx, c):
        raise NotFound("lookup.not_found", query=c.code)
    if c.owner_id is None:
        raise Conflict("team.err.pooled", code=c.code)
    if not can_edit_customer(ctx, c):
        raise Forbidden("team.err.keep_not_yours", code=c.code)
    since = quiet_since(ctx.session, c)
    returns_at = since + timedelta(days=ctx.settings.pool_return_days)
    return KeepResult(returns_at - timedelta(days=ctx.settings.pool_warn_days) > ctx.now, since, returns_at)
