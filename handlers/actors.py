"""Who is writing: the staff member behind a platform user, or the customer whose chat it is.

The router resolves it for every unit of work (`resolve`); adapters ask the core (`Core.actor`) for the
plain facts they need before or besides one (a label's language, whether to answer a stranger, the customer
of a shared channel), and never read the database themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from handlers.i18n import norm_lang
from storage.models import ChatBinding, Staff
from storage.repos import chats
from storage.repos import staff as staff_repo


@dataclass(frozen=True)
class Actor:
    known: bool  # a staff member, or writing in a chat bound to a customer
    lang: str
    role: str | None = None  # the staff role; None for customers and strangers
    customer: bool = False  # not staff, writing in a chat bound to a customer
    chat_customer: str | None = None  # the code of the customer the chat is bound to, whoever writes


def resolve(session: Session, platform: str, user_ref: str, chat_ref: str) -> tuple[Staff | None, ChatBinding | None]:
    """The active staff member writing, else the customer binding of the chat (a customer writing)."""
    staff = staff_repo.get_by_platform(session, platform=platform, user_ref=user_ref)
    if staff is not None:
        return staff, None
    return None, chats.binding(session, platform=platform, chat_ref=chat_ref)


def describe(session: Session, platform: str, user_ref: str, chat_ref: str | None, *, default_lang: str) -> Actor:
    staff, binding = resolve(session, platform, user_ref, chat_ref or "")
    code = chats.bound_customer_code(session, platform=platform, chat_ref=chat_ref) if chat_ref else None
    if staff is not None:
        return Actor(True, norm_lang(staff.lang), staff.role, chat_customer=code)
    if binding is not None:
        return Actor(True, norm_lang(binding.lang), customer=True, chat_customer=code)
    return Actor(False, norm_lang(default_lang), chat_customer=code)
