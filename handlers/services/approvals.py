"""Approvals: a rep's change of a `deal` customer's key fields (name, contacts, type) waits for the
owner's manager, who gets Approve / Reject buttons. Nothing changes until approved; the requester is told
the outcome either way. Approver: the owner's manager, else a manager of the owner's team, else an admin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from handlers import notify
from handlers.cards import customers as cards
from handlers.context import Ctx
from handlers.errors import Conflict, Forbidden, NotFound
from handlers.permissions import is_manager_of, team_ids
from handlers.services import audit
from handlers.services.customer_changes import apply_changes
from storage.models import ApprovalRequest, Customer, Staff
from storage.repos import customers as customer_repo
from storage.repos import staff as staff_repo


def find_approver(ctx: Ctx, c: Customer) -> Staff | None:
    s = ctx.session
    owner = s.get(Staff, c.owner_id) if c.owner_id else ctx.staff
    if owner and owner.manager_id:
        m = s.get(Staff, owner.manager_id)
        if m is not None and m.active and m.role in ("manager", "admin"):
            return m
    if owner and owner.team:
        m = staff_repo.first_active(s, role="manager", team=owner.team)
        if m is not None:
            return m
    return staff_repo.first_active(s, role="admin")


def request_approval(ctx: Ctx, c: Customer, changes: dict[str, list]) -> ApprovalRequest:
    """Store the held changes ({field: [old, new]}) and ask the approver."""
    approver = find_approver(ctx, c)
    req = ApprovalRequest(kind="customer_edit", customer_id=c.id, requested_by_id=ctx.staff.id,
                          approver_id=approver.id if approver else None,
                          changes=json.dumps(changes, ensure_ascii=False), created_at=ctx.now)
    ctx.session.add(req)
    ctx.session.flush()
    audit.record(ctx.session, actor_id=ctx.staff.id, action="request", entity="customer", entity_id=c.id,
                 entity_code=c.code, new=", ".join(changes), now=ctx.now)
    if approver is not None:
        r = cards.approval_ask(approver.lang, req, c, ctx.staff, changes)
        notify.to_staff(ctx.session, approver, key=f"appr:{req.id}", reply=r, now=ctx.now)
    return req


def decide(ctx: Ctx, request_id: int, *, approve: bool, reason: str = "") -> tuple[ApprovalRequest, Customer]:
    """Approve (apply the held changes) or reject a pending request; tell the requester."""
    s = ctx.session
    # locked: of two decisions at the same moment the second waits, then sees the first (applied once)
    req = s.get(ApprovalRequest, request_id, with_for_update=True, populate_existing=True)
    c = s.get(Customer, req.customer_id) if req else None
    if req is None or c is None:
        raise NotFound("appr.not_found")
    allowed = ctx.role == "admin" or req.approver_id == ctx.staff.id or is_manager_of(ctx, c.owner_id)
    if not allowed:
        raise NotFound("appr.not_found")
    if req.status != "pending":
        raise Conflict("appr.already", status=ctx.t(f"appr.status.{req.status}"))
    changes = json.loads(req.changes)
    req.status = "approved" if approve else "rejected"
    req.decided_by_id, req.decided_at = ctx.staff.id, ctx.now
    if approve:
        apply_changes(s, c, {f: new for f, (_old, new) in changes.items()}, actor_id=req.requested_by_id,
                      now=ctx.now, settings=ctx.settings)
    audit.record(s, actor_id=ctx.staff.id, action="approve" if approve else "reject", entity="customer",
                 entity_id=c.id, entity_code=c.code, new=reason or ", ".join(changes), now=ctx.now)
    requester = s.get(Staff, req.requested_by_id)
    if requester is not None and requester.id != ctx.staff.id:
        told = cards.approval_told(requester.lang, c, approved=approve, by=ctx.staff.name, changes=changes,
                                   reason=reason)
        notify.to_staff(s, requester, key=f"appr:{req.id}:{req.status}", reply=told, now=ctx.now)
    s.flush()
    return req, c


# ---------------------------------------------------------------- /approvals (read-only)


@dataclass(frozen=True)
class Pending:
    request: ApprovalRequest
    customer: Customer
    requester: Staff | None
    changes: dict[str, list]


def list_pending(ctx: Ctx) -> list[Pending]:
    """The pending requests the actor may decide, oldest first, by the rule `decide` applies: an admin sees
    all; a manager those addressed to them or about a customer owned in their team. Others: `Forbidden`."""
    if ctx.role not in ("manager", "admin"):
        raise Forbidden("appr.list.managers_only")
    mine = None if ctx.role == "admin" else (ctx.staff.id, team_ids(ctx))
    rows = customer_repo.pending_approvals(ctx.session, approver_or_team=mine)
    return [Pending(req, c, ctx.session.get(Staff, req.requested_by_id), json.loads(req.changes))
            for req, c in rows]
