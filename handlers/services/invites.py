"""One-time invites that bind a customer's chat to one of their contacts.

The token is `secrets.token_urlsafe(24)` (32 characters of A-Za-z0-9_-, fits Telegram's deep-link `start`
parameter); only its SHA-256 is stored. It is single-use (a conditional UPDATE marks it used) and expires after
`settings.invite_ttl`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session

from handlers.context import Ctx
from handlers.errors import InvalidInput, NotFound
from handlers.lookup import normalize_name
from handlers.permissions import can_see_customer
from storage.db import insert_ignore
from storage.models import ChatBinding, Contact, Customer, Invite
from storage.repos import customers as customer_repo
from storage.repos import merging as merging_repo
from storage.repos import service as repo

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True)
class Issued:
    """A new invite and its token (shown once: only its hash is stored)."""

    invite: Invite
    token: str
    customer: Customer
    contact: Contact


@dataclass(frozen=True)
class Redeemed:
    """What `/start TOKEN` did: `bound` (with the customer and contact), or `invalid`, `used`, `expired`."""

    outcome: str
    customer: Customer | None = None
    contact: Contact | None = None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh invite token and its hash (customer and staff invites alike)."""
    token = secrets.token_urlsafe(24)
    return token, token_hash(token)


def hash_of_wellformed(token: str) -> str | None:
    """The hash of a token that has an invite's shape, else None (forged or garbled)."""
    token = token.strip()
    return token_hash(token) if TOKEN_RE.match(token) else None


def _contact(ctx: Ctx, customer: Customer, name: str | None) -> Contact:
    contacts = customer_repo.contacts_of(ctx.session, customer.id)
    if not contacts:
        raise InvalidInput("inv.no_contacts", customer=customer.name)
    if not name or not name.strip():
        return contacts[0]
    q = name.strip().lower()
    hits = [c for c in contacts if c.name.lower() == q] or [c for c in contacts if q in c.name.lower()]
    if len(hits) != 1:
        raise InvalidInput("inv.pick_contact", name=name.strip(), choices="、".join(c.name for c in contacts))
    return hits[0]


def issue_invite(ctx: Ctx, customer: Customer, contact_name: str | None) -> Issued:
    """Staff who can see the customer create an invite for one of its contacts (the primary one by default)."""
    if ctx.staff is None or not can_see_customer(ctx, customer):
        raise NotFound("lookup.not_found", query=customer.code)
    contact = _contact(ctx, customer, contact_name)
    token, digest = new_token()
    inv = Invite(token_hash=digest, customer_id=customer.id, contact_id=contact.id,
                 created_by_id=ctx.staff.id, created_at=ctx.now, expires_at=ctx.now + ctx.settings.invite_ttl)
    ctx.session.add(inv)
    ctx.session.flush()
    return Issued(invite=inv, token=token, customer=customer, contact=contact)


def redeem(ctx: Ctx, token: str) -> Redeemed:
    """`/start TOKEN` from a customer's chat: bind the chat, or say why not."""
    digest = hash_of_wellformed(token)
    inv = repo.get_invite(ctx.session, token_hash=digest) if digest else None
    if inv is None:
        return Redeemed("invalid")
    if inv.used_at is not None:
        return Redeemed("used")
    if inv.expires_at <= ctx.now:
        return Redeemed("expired")
    chat_num = int(ctx.chat_ref) if re.fullmatch(r"-?\d{1,18}", ctx.chat_ref) else None
    res = ctx.session.execute(update(Invite).where(Invite.id == inv.id, Invite.used_at.is_(None))
                              .values(used_at=ctx.now, used_chat=chat_num)
                              .execution_options(synchronize_session=False))
    if res.rowcount != 1:
        return Redeemed("used")
    # insert-or-ignore, then the row under its lock: two invites used in one chat at once bind it one after the other
    insert_ignore(ctx.session, ChatBinding, conflict=["platform", "chat_ref"], platform=ctx.platform,
                  chat_ref=ctx.chat_ref, customer_id=inv.customer_id, contact_id=inv.contact_id, lang=ctx.lang,
                  created_at=ctx.now)
    b = repo.get_binding(ctx.session, platform=ctx.platform, chat_ref=ctx.chat_ref, lock=True)
    b.customer_id, b.contact_id, b.user_ref = inv.customer_id, inv.contact_id, ctx.user_ref
    ctx.session.flush()
    ctx.binding = b
    return Redeemed("bound", customer=ctx.session.get(Customer, inv.customer_id),
                    contact=ctx.session.get(Contact, inv.contact_id))


@dataclass(frozen=True)
class ConsoleChat:
    """A terminal chat bound to a customer's primary contact (`crm-bot console --customer CODE`)."""

    chat_ref: str
    code: str
    name: str
    contact: str
    lang: str


def bind_console(session: Session, *, code: str, lang: str, now: datetime) -> ConsoleChat:
    """Bind the console chat `customer:CODE` to the customer's primary contact (kept across runs, like a Telegram
    chat: what the service sends it while nobody is at the terminal is shown next time). `code` may also be a
    name that matches one customer. Raises `NotFound` (no such customer, or merged: the message names the
    survivor) or `InvalidInput` (several names match: they are listed; no contact to chat as)."""
    c = customer_repo.get_by_code(session, code=code)
    if c is None and normalize_name(code):
        hits = customer_repo.match_text(session, where=[Customer.merged_into_id.is_(None)],
                                        name_norm=normalize_name(code), text=code.strip(), phone=None, limit=25).page
        if len(hits) > 1:
            raise InvalidInput("inv.console_ambiguous", query=code,
                               choices="\n".join(f"  {c.code}  {c.name}" for c in hits[:25]))
        c = hits[0] if hits else None
    if c is None:
        raise NotFound("lookup.not_found", query=code)
    if c.merged_into_id is not None:
        alive = merging_repo.survivor_of(session, c)
        raise NotFound("lookup.merged", code=c.code, into=alive.code if alive else "?",
                       name=alive.name if alive else "?")
    contact = customer_repo.primary_contact(session, c.id)
    if contact is None:
        raise InvalidInput("inv.no_contacts", customer=f"{c.code} {c.name}")
    chat = f"customer:{c.code}"
    insert_ignore(session, ChatBinding, conflict=["platform", "chat_ref"], platform="console", chat_ref=chat,
                  user_ref=chat, customer_id=c.id, contact_id=contact.id, lang=lang, created_at=now)
    b = repo.get_binding(session, platform="console", chat_ref=chat, lock=True)
    b.customer_id, b.contact_id, b.user_ref = c.id, contact.id, chat
    session.flush()
    return ConsoleChat(chat, c.code, c.name, contact.name, b.lang)
