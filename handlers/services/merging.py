"""Merging a duplicate customer into another (`/customer merge A INTO B`, managers for their team, admins).

Everything of A moves to B: contacts, follow-ups, opportunities, tickets, purchases, tags, chat bindings and
any other row that refers to the customer (found from the foreign keys, see `storage.repos.merging`), and A's
audit trail; every moved row keeps its author and time. A stays as a tombstone (`merged_into_id`): its code
still resolves ("ABC2026001 was merged into ABC2026007"), it is never listed, searched or counted. Both get
an audit entry. B's empty fields (address, source, demand, notes) take A's values; its grade is recomputed;
what A's owner owed (open follow-ups, open opportunities) goes to B's owner; A's pending approval requests are
rejected (their requesters are told).

A merge happens once: both rows are claimed with a conditional UPDATE (`… WHERE merged_into_id IS NULL`), so
a double click or two managers at once merge once and the other is told it is already done.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update

from handlers.context import Ctx
from handlers.errors import Conflict, Forbidden, InvalidInput
from handlers.permissions import can_edit_customer
from handlers.services import approvals, audit
from handlers.services.followup_owed import move_owed
from handlers.services.purchases import regrade
from storage.models import Contact, Customer, FollowUp, Opportunity, Staff
from storage.repos import customers as customer_repo
from storage.repos import merging as merging_repo
from storage.repos import opportunities as opp_repo

ROLES = ("manager", "admin")
FILLED = ("address", "source", "demand", "notes")  # B's empty fields take A's value


@dataclass(frozen=True)
class MergePlan:
    """What a merge would do: the two customers and, by table name, how many rows would move."""

    src: Customer
    dst: Customer
    counts: dict[str, int]


@dataclass(frozen=True)
class MergeResult:
    src: Customer
    dst: Customer
    moved: dict[str, int]


def check(ctx: Ctx, src: Customer, dst: Customer) -> None:
    """Raise unless the actor may merge `src` into `dst`."""
    if ctx.role not in ROLES:
        raise Forbidden("merge.err.role")
    if src.id == dst.id:
        raise InvalidInput("merge.err.same", code=src.code)
    if not (can_edit_customer(ctx, src) and can_edit_customer(ctx, dst)):
        raise Forbidden("merge.err.not_team")


def plan(ctx: Ctx, src: Customer, dst: Customer) -> MergePlan:
    check(ctx, src, dst)
    return MergePlan(src, dst, merging_repo.count_rows(ctx.session, customer_id=src.id))


def merge(ctx: Ctx, src: Customer, dst: Customer) -> MergeResult:
    """Move everything of `src` to `dst` and leave `src` as a tombstone pointing at `dst`."""
    check(ctx, src, dst)
    s, now = ctx.session, ctx.now
    s.flush()
    if not merging_repo.claim_pair(s, src_id=src.id, dst_id=dst.id, now=now):
        raise Conflict("merge.err.changed", src=src.code, dst=dst.code)
    s.expire(src)
    s.expire(dst)
    for rid in customer_repo.pending_approval_ids(s, src.id):  # a held edit of A must not change B
        approvals.decide(ctx, rid, approve=False, reason=ctx.t("merge.approval_reason", src=src.code, dst=dst.code))
    primary = customer_repo.primary_contact(s, dst.id)
    open_opps = opp_repo.open_ids_of(s, customer_id=src.id, owner_id=src.owner_id) \
        if src.owner_id is not None and src.owner_id != dst.owner_id else []
    moved = merging_repo.move_rows(s, src_id=src.id, dst_id=dst.id)
    s.expire_all()
    if open_opps:  # A's open opportunities go to B's owner with the customer (as a handover does)
        s.execute(update(Opportunity).where(Opportunity.id.in_(open_opps))
                  .values(owner_id=dst.owner_id, updated_at=now).execution_options(synchronize_session=False))
    if primary is not None:  # B keeps its own primary contact; A's become ordinary contacts of B
        s.execute(update(Contact).where(Contact.customer_id == dst.id, Contact.id != primary.id)
                  .values(is_primary=False).execution_options(synchronize_session=False))
    if src.owner_id is not None and src.owner_id != dst.owner_id:  # what A's owner owed for A, B's owner owes
        move_owed(s, where=(FollowUp.customer_id == dst.id) & (FollowUp.assignee_id == src.owner_id),
                  to=s.get(Staff, dst.owner_id) if dst.owner_id else None, actor_id=ctx.staff.id, action="merge",
                  now=now)
    _combine_fields(ctx, src, dst)
    regrade(s, dst, now=now, settings=ctx.settings, actor_id=ctx.staff.id)
    audit.record(s, actor_id=ctx.staff.id, action="merge", entity="customer", entity_id=src.id,
                 entity_code=src.code, field="merged_into", old=None, new=dst.code, now=now)
    audit.record(s, actor_id=ctx.staff.id, action="merge", entity="customer", entity_id=dst.id,
                 entity_code=dst.code, field="merged_from", old=src.code, new=f"{src.code} {src.name}", now=now)
    s.flush()
    return MergeResult(src, dst, moved)


def _combine_fields(ctx: Ctx, src: Customer, dst: Customer) -> None:
    """B's empty fields take A's values; B's follow-up dates become the later last and the earlier next."""
    for f in FILLED:
        if not getattr(dst, f) and getattr(src, f):
            audit.record(ctx.session, actor_id=ctx.staff.id, action="merge", entity="customer", entity_id=dst.id,
                         entity_code=dst.code, field=f, old=None, new=getattr(src, f), now=ctx.now)
            setattr(dst, f, getattr(src, f))
    lasts = [d for d in (src.last_followup_at, dst.last_followup_at) if d]
    nexts = [d for d in (src.next_followup_at, dst.next_followup_at) if d]
    dst.last_followup_at = max(lasts) if lasts else None
    dst.next_followup_at = min(nexts) if nexts else None
    dst.updated_at = ctx.now


def survivor(ctx: Ctx, tombstone: Customer) -> Customer | None:
    """The live customer a tombstone was merged into (chains followed), if any."""
    return merging_repo.survivor_of(ctx.session, tombstone)

