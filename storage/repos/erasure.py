"""Reads for erasing a customer's personal data (`handlers/services/erasure.py`): every row that holds it."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlmodel import Session

from storage.models import (
    ApprovalRequest,
    ChatBinding,
    Customer,
    FollowUp,
    Invite,
    Opportunity,
    OpportunityStage,
    Outbox,
    Ticket,
    TicketEvent,
)


def tombstones(session: Session, customer_id: int) -> list[Customer]:
    """Customers merged into this one (`/customer merge`): their rows still hold the names they had."""
    return list(session.scalars(select(Customer).where(Customer.merged_into_id == customer_id)))


def followups(session: Session, customer_id: int) -> list[FollowUp]:
    return list(session.scalars(select(FollowUp).where(FollowUp.customer_id == customer_id)))


def tickets(session: Session, customer_id: int) -> list[Ticket]:
    return list(session.scalars(select(Ticket).where(Ticket.customer_id == customer_id)))


def ticket_events(session: Session, ticket_ids: list[int]) -> list[TicketEvent]:
    return list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids),
                                                          TicketEvent.text.is_not(None))))


def opportunities(session: Session, customer_id: int) -> list[Opportunity]:
    return list(session.scalars(select(Opportunity).where(Opportunity.customer_id == customer_id)))


def stage_notes(session: Session, opp_ids: list[int]) -> list[OpportunityStage]:
    return list(session.scalars(select(OpportunityStage).where(OpportunityStage.opportunity_id.in_(opp_ids),
                                                               OpportunityStage.note.is_not(None))))


def approvals(session: Session, customer_id: int) -> list[ApprovalRequest]:
    return list(session.scalars(select(ApprovalRequest).where(ApprovalRequest.customer_id == customer_id)))


def bindings(session: Session, customer_id: int) -> list[ChatBinding]:
    return list(session.scalars(select(ChatBinding).where(ChatBinding.customer_id == customer_id)))


def invites(session: Session, customer_id: int) -> list[Invite]:
    return list(session.scalars(select(Invite).where(Invite.customer_id == customer_id)))


def outbox_mentioning(session: Session, needles: list[str], chats: list[tuple[str, str]]) -> list[Outbox]:
    """Outbox rows whose text contains one of `needles` or that go to one of `chats` (platform, chat_ref)."""
    conds = [Outbox.payload.contains(n, autoescape=True) for n in needles]
    conds += [(Outbox.platform == p) & (Outbox.chat_ref == c) for p, c in chats]
    if not conds:
        return []
    return list(session.scalars(select(Outbox).where(or_(*conds))))
