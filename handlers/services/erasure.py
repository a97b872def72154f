"""Erasing a customer's personal data on request (`/customer forget CODE`, `crm-bot customer forget CODE`).

China's PIPL and the GDPR give a person the right to have their data erased. What goes: the customer's name
(it becomes its code), address, demand and notes; every contact's name, title, phone and email; the text of
follow-ups, opportunity notes, tickets (description, resolution, handling log, rating comment) and held
approval requests; the old and new values the audit log kept of those fields; the customer's chat bindings
and invites; and every outbox message that quoted any of it (sent ones lose their text, pending ones to the
customer are dropped, pending ones to staff have the quoted data blanked).

What stays, so the reports stay right: the rows themselves with their codes, dates, authors, methods,
amounts, stages, grades, types, priorities and ratings; the audit entries of non-personal fields (type,
grade, stage, owner, …). One audit entry records the erasure — who and when and how many rows — never the
data. Backups written before the erasure still hold it until they age out (`CRM_BACKUP_KEEP`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import text

from handlers.context import Ctx
from handlers.errors import Forbidden, InvalidInput
from handlers.services import audit
from storage import outbox
from storage.models import AuditLog, Customer, Outbox
from storage.repos import audit as audit_repo
from storage.repos import customers as customer_repo
from storage.repos import erasure as repo

ERASED = "—"  # what a NOT NULL text column holds once erased (language-neutral; cards show it as is)
# audit fields whose values are not personal: they stay so that reports of transitions stay right
KEPT_AUDIT_FIELDS = frozenset({"type", "grade", "grade_locked", "industry", "source", "stage", "owner", "assignee",
                               "status", "priority", "amount", "expected_amount", "actual_amount", "active",
                               "next_followup_at", "due", "rating", "staff", "ticket", "result", "feedback",
                               "method", "tags", "tag"})
_SHORTEST_NEEDLE = 2  # shorter strings would blank unrelated messages


@dataclass(frozen=True)
class Erasure:
    """What an erasure touches (the confirmation shows it before, the reply after)."""

    customer: Customer
    contacts: int
    followups: int
    opportunities: int
    tickets: int
    audit_values: int
    chats: int
    messages: int

    def counts(self) -> dict[str, int]:
        return dict(contacts=self.contacts, followups=self.followups, opportunities=self.opportunities,
                    tickets=self.tickets, audit_values=self.audit_values, chats=self.chats, messages=self.messages)


def _check(ctx: Ctx, customer: Customer) -> None:
    if ctx.role != "admin":
        raise Forbidden("erase.err.admin_only")
    if customer.erased_at is not None:
        raise InvalidInput("erase.err.already", code=customer.code,
                           date=customer.erased_at.astimezone(ctx.tz).strftime("%Y-%m-%d"))


def _needles(customer: Customer, contacts: list) -> list[str]:
    """The personal strings whose copies in outbox messages are to go."""
    values = [customer.name, customer.address]
    for c in contacts:
        values += [c.name, c.phone, c.email]
    return sorted({v for v in values if v and len(v) >= _SHORTEST_NEEDLE and v != customer.code}, key=len,
                  reverse=True)


def _audit_rows(ctx: Ctx, customer: Customer) -> list[AuditLog]:
    rows = audit_repo.entries_for_customer(ctx.session, customer_id=customer.id, limit=None)
    return [r for r in rows if (r.old is not None or r.new is not None) and (r.field or "") not in KEPT_AUDIT_FIELDS]


def plan(ctx: Ctx, customer: Customer) -> Erasure:
    """What `forget` would erase, for the confirmation; nothing is changed."""
    _check(ctx, customer)
    return _survey(ctx, customer, apply=False)


def forget(ctx: Ctx, customer: Customer) -> Erasure:
    """Erase the customer's personal data in this unit of work and record that it was done."""
    _check(ctx, customer)
    if ctx.session.get_bind().dialect.name == "sqlite":
        # freed and rewritten cells are zeroed, so the old text does not linger in the database file's free space
        ctx.session.execute(text("PRAGMA secure_delete = ON"))
    done = _survey(ctx, customer, apply=True)
    audit.record(ctx.session, actor_id=ctx.staff.id if ctx.staff else None, action="erase", entity="customer",
                 entity_id=customer.id, entity_code=customer.code, field="personal_data",
                 new=" ".join(f"{k}={n}" for k, n in done.counts().items()), now=ctx.now)
    ctx.session.flush()
    return done


def _survey(ctx: Ctx, c: Customer, *, apply: bool) -> Erasure:
    s = ctx.session
    contacts = customer_repo.contacts_of(s, c.id)
    needles = _needles(c, contacts)
    followups = repo.followups(s, c.id)
    tickets = repo.tickets(s, c.id)
    opps = repo.opportunities(s, c.id)
    audits = _audit_rows(ctx, c)
    bindings = repo.bindings(s, c.id)
    chats = [(b.platform, b.chat_ref) for b in bindings]
    messages = repo.outbox_mentioning(s, [json.dumps(n, ensure_ascii=False)[1:-1] for n in needles], chats)
    if apply:
        _erase_rows(ctx, c, contacts, followups, tickets, opps, audits)
        for b in bindings:
            s.delete(b)
        for inv in repo.invites(s, c.id):
            s.delete(inv)
        _erase_messages(ctx, messages, needles, set(chats))
    return Erasure(customer=c, contacts=len(contacts), followups=len(followups), opportunities=len(opps),
                   tickets=len(tickets), audit_values=len(audits), chats=len(bindings), messages=len(messages))


def _erase_rows(ctx: Ctx, c: Customer, contacts: list, followups: list, tickets: list, opps: list,
                audits: list[AuditLog]) -> None:
    s = ctx.session
    for x in (c, *repo.tombstones(s, c.id)):  # what was merged into it is the same customer's data
        x.name, x.name_norm = x.code, x.code.lower()
        x.address = x.demand = x.notes = None
        x.erased_at = x.updated_at = ctx.now
    for x in contacts:
        x.name, x.title, x.phone, x.email = ERASED, None, None, None
    for f in followups:
        f.content = ERASED
    for t in tickets:
        t.description, t.resolution, t.rating_comment = ERASED, None, None
    for ev in repo.ticket_events(s, [t.id for t in tickets]):
        ev.text = None
    for o in opps:
        o.name, o.strengths, o.weaknesses, o.competitors = o.code, None, None, None
    for st in repo.stage_notes(s, [o.id for o in opps]):
        st.note = None
    for a in repo.approvals(s, c.id):
        a.changes = "{}"
    for row in audits:
        row.old = row.new = None


def _blank(value: object, needles: list[str]) -> object:
    """`value` (a decoded JSON payload) with every needle replaced by ERASED."""
    if isinstance(value, str):
        for n in needles:
            value = value.replace(n, ERASED)
        return value
    if isinstance(value, list):
        return [_blank(v, needles) for v in value]
    if isinstance(value, dict):
        return {k: _blank(v, needles) for k, v in value.items()}
    return value


def _erase_messages(ctx: Ctx, rows: list[Outbox], needles: list[str], chats: set[tuple[str, str]]) -> None:
    for row in rows:
        if (row.platform, row.chat_ref) in chats and row.status != "sent":
            ctx.session.delete(row)  # nothing more goes to a customer who asked to be forgotten
        elif row.status == "sent":
            row.payload = outbox.STRIPPED  # delivered: the copy here is only personal data
        else:
            row.payload = json.dumps(_blank(json.loads(row.payload), needles), ensure_ascii=False)
