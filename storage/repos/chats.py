"""Chats and the people behind them: a chat's customer binding, the staff accounts on a platform."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from storage.models import ChatBinding, Customer, ProcessedUpdate, Staff


def binding(session: Session, *, platform: str, chat_ref: str) -> ChatBinding | None:
    """The customer binding of a chat (a Telegram chat, a Slack shared channel), if it is one."""
    return session.scalar(select(ChatBinding).where(ChatBinding.platform == platform,
                                                    ChatBinding.chat_ref == chat_ref))


def bound_customer_code(session: Session, *, platform: str, chat_ref: str) -> str | None:
    """The code of the customer whose chat this is, if it is one."""
    return session.scalar(select(Customer.code).join(ChatBinding, ChatBinding.customer_id == Customer.id).where(
        ChatBinding.platform == platform, ChatBinding.chat_ref == chat_ref).limit(1))


def telegram_accounts(session: Session) -> list[tuple[int, str, str, bool]]:
    """(telegram id, language, role, active) of every staff member with a Telegram account (their menus)."""
    rows = session.execute(select(Staff.telegram_id, Staff.lang, Staff.role, Staff.active)
                           .where(Staff.telegram_id.is_not(None))).all()
    return [(int(tg), lang, role, active) for tg, lang, role, active in rows]


def processed(session: Session, *, platform: str, key: str) -> bool:
    """Was the inbound (or decision) `key` handled already (`router.first_delivery`)?"""
    return session.scalar(select(ProcessedUpdate.id).where(ProcessedUpdate.platform == platform,
                                                           ProcessedUpdate.key == key).limit(1)) is not None

