"""SLA escalation (seed 002 §3.3; domain.md); the clocks themselves are `handlers.services.sla_clocks`.

A deadline that passes unmet escalates exactly once per level (`SlaBreach` is unique per ticket, kind and
level): level 1 to the service channel, level 2 (`settings.escalate_after` after level 1, still unmet) to the
sales manager of the customer's owner — or, when the customer is in the pool or its owner has no manager, to
the supervisors and admins.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from handlers import notify
from handlers.cards.service import sla_alert
from handlers.cards.tickets import for_channel
from handlers.cards.tickets import job_ctx as job_ctx  # re-export: bot/demo_data.py
from handlers.context import Ctx
from handlers.services.sla_clocks import insert_breach, unmet
from handlers.services.sla_clocks import insert_breach as _insert  # noqa: F401 - re-export: tests
from handlers.services.sla_clocks import meet as meet  # re-export: bot/demo_tickets.py
from handlers.services.sla_clocks import policy as policy  # re-export: bot/demo_tickets.py
from handlers.services.sla_clocks import work_clocks as work_clocks  # re-export: bot/demo_tickets.py
from handlers.services.tickets import visible_ids
from handlers.settings import DomainSettings
from storage.models import Customer, SlaBreach, Staff, Ticket
from storage.repos import service as service_repo
from storage.repos import tickets as repo
from storage.repos.tickets import KINDS as KINDS  # re-export: bot/demo_sla.py, tests
from storage.repos.tickets import due_of as due_of  # re-export: bot/demo_sla.py, tests
from storage.repos.tickets import met_of as met_of  # re-export: tests


def owner_manager(session: Session, t: Ticket) -> Staff | None:
    """The sales manager of the customer's owner; an owner who is a manager themselves is that manager."""
    c = session.get(Customer, t.customer_id)
    owner = session.get(Staff, c.owner_id) if c and c.owner_id else None
    mgr = session.get(Staff, owner.manager_id) if owner and owner.manager_id else None
    if mgr is None and owner is not None and owner.role == "manager":
        mgr = owner
    return mgr if mgr is not None and mgr.active else None


def level_two_recipients(session: Session, t: Ticket) -> list[Staff]:
    """Who gets a second-level escalation: the owner's sales manager; when there is none (a pool customer, an owner
    without a manager) the active supervisors and admins, so that an escalation always reaches someone."""
    mgr = owner_manager(session, t)
    return [mgr] if mgr is not None else service_repo.list_leads(session)


def escalate_due(session: Session, *, now: datetime, settings: DomainSettings,
                 channels: dict[str, str]) -> int:
    """Escalate every passed, unmet deadline once per level. Returns the number of escalations made."""
    n = 0
    for t in repo.list_past_a_deadline(session, now=now):
        for kind in KINDS:
            due = due_of(t, kind)
            if due is None or due > now or not unmet(t, kind):
                continue
            n += _escalate_one(session, t, kind, due, now=now, settings=settings, channels=channels)
    session.flush()
    return n


def _escalate_one(session: Session, t: Ticket, kind: str, due: datetime, *, now: datetime,
                  settings: DomainSettings, channels: dict[str, str]) -> int:
    rows = {r.level: r for r in repo.breaches_of(session, ticket_id=t.id, kind=kind)}
    if 1 not in rows:
        if not insert_breach(session, ticket_id=t.id, kind=kind, level=1, due_at=due, escalated_at=now):
            return 0
        reply = for_channel(session, now=now, settings=settings, build=lambda v: sla_alert(v, t, kind, 1))
        notify.to_service_channel(session, channels, key=f"sla:{t.code}:{kind}:1", reply=reply, now=now)
        return 1
    first = rows[1]
    if 2 in rows or first.met_at is not None or now < first.escalated_at + settings.escalate_after:
        return 0
    to = level_two_recipients(session, t)
    if not to or not insert_breach(session, ticket_id=t.id, kind=kind, level=2, due_at=due, escalated_at=now):
        return 0
    for st in to:
        vctx = job_ctx(session, now=now, settings=settings, staff=st)
        notify.to_staff(session, st, key=f"sla:{t.code}:{kind}:2:{st.id}", reply=sla_alert(vctx, t, kind, 2),
                        now=now)
    return 1


def breaches_for_report(ctx: Ctx, *, start: datetime, end: datetime) -> list[tuple[SlaBreach, Ticket]]:
    """The period's breaches and, when the period reaches now, every breach still open (however long ago it fell
    due), those first: the tickets `/tickets breaching` lists are all here. Only tickets the viewer may see."""
    return _visible(ctx, repo.list_breaches(ctx.session, start=start, end=end, with_open=end > ctx.now))


def breaches_between(ctx: Ctx, *, start: datetime, end: datetime) -> list[tuple[SlaBreach, Ticket]]:
    """The breaches that fell due in [start, end) on tickets the viewer may see (the report's weekly trend)."""
    return _visible(ctx, repo.list_breaches(ctx.session, start=start, end=end, with_open=False))


def _visible(ctx: Ctx, rows: list[tuple[SlaBreach, Ticket]]) -> list[tuple[SlaBreach, Ticket]]:
    if ctx.role not in ("admin", "supervisor", "agent"):
        ok = visible_ids(ctx, [t.id for _, t in rows])
        rows = [(b, t) for b, t in rows if t.id in ok]
    return rows
