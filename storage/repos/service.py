"""Read queries of the service desk around its tickets: who works the desk (agents by load, the leads), the
contacts a ticket or an invite can name, invites and customers' chat bindings."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlmodel import Session

from storage.models import ChatBinding, Customer, Invite, Staff, Ticket
from storage.repos.tickets import OPEN

LEADS = ("supervisor", "admin")  # assign, and handle any ticket
SERVICE_STAFF = ("agent", "supervisor", "admin")  # may be assigned a ticket


def agents_by_load(session: Session) -> list[tuple[Staff, int]]:
    """Active agents, least loaded first, with their open-ticket counts."""
    load = dict(session.execute(select(Ticket.assignee_id, func.count()).where(
        Ticket.status.in_(OPEN), Ticket.assignee_id.is_not(None)).group_by(Ticket.assignee_id)).all())
    agents = session.scalars(select(Staff).where(Staff.role == "agent", Staff.active.is_(True))).all()
    return sorted(((a, load.get(a.id, 0)) for a in agents), key=lambda p: (p[1], p[0].name))


def list_leads(session: Session) -> list[Staff]:
    """The active supervisors and admins, in id order."""
    return list(session.scalars(select(Staff).where(Staff.role.in_(LEADS), Staff.active.is_(True))
                                .order_by(Staff.id)))


def supervisor_langs(session: Session) -> list[str]:
    """The languages of the active supervisors, one entry per supervisor."""
    return list(session.scalars(select(Staff.lang).where(Staff.role == "supervisor", Staff.active.is_(True))))


def customer_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    return {c.id: c.name for c in session.scalars(select(Customer).where(Customer.id.in_(set(ids) or {-1})))}


def get_invite(session: Session, *, token_hash: str) -> Invite | None:
    return session.scalar(select(Invite).where(Invite.token_hash == token_hash))


def get_binding(session: Session, *, platform: str, chat_ref: str, lock: bool = False) -> ChatBinding | None:
    """A chat's binding; `lock`: under a row lock, fresh from the database."""
    q = select(ChatBinding).where(ChatBinding.platform == platform, ChatBinding.chat_ref == chat_ref)
    if lock:
        q = q.with_for_update().execution_options(populate_existing=True)
    return session.scalar(q)
