"""One-time invites that bind a customer's chat to one of their contacts.

The token is `secrets.token_urlsafe(24)` (32 characters of A-Za-z0-9_-, fits Telegram's deep-link `start`
parameter); only its SHA-256 is stored. It is single-use (a conditional UPDATE marks it used) and expires after
`settings.invite_ttl`.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select, update

from handlers.context import Ctx
from handlers.errors import InvalidInput, NotFound
from handlers.permissions import can_see_customer
from handlers.views import Header, Reply, Text
from storage.db import insert_ignore
from storage.models import ChatBinding, Contact, Customer, Invite

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _contact(ctx: Ctx, customer: Customer, name: str | None) -> Contact:
    contacts = list(ctx.session.scalars(select(Contact).where(Contact.customer_id == customer.id)
                                        .order_by(Contact.is_primary.desc(), Contact.id)))
    if not contacts:
        raise InvalidInput("inv.no_contacts", customer=customer.name)
    if not name or not name.strip():
        return contacts[0]
    q = name.strip().lower()
    hits = [c for c in contacts if c.name.lower() == q] or [c for c in contacts if q in c.name.lower()]
    if len(hits) != 1:
        raise InvalidInput("inv.pick_contact", name=name.strip(), choices="、".join(c.name for c in contacts))
    return hits[0]


def create_invite(ctx: Ctx, customer: Customer, contact_name: str | None) -> Reply:
    """Staff who can see the customer create an invite; the reply shows the deep link and the /start line."""
    if ctx.staff is None or not can_see_customer(ctx, customer):
        raise NotFound("lookup.not_found", query=customer.code)
    contact = _contact(ctx, customer, contact_name)
    token = secrets.token_urlsafe(24)
    inv = Invite(token_hash=token_hash(token), customer_id=customer.id, contact_id=contact.id,
                 created_by_id=ctx.staff.id, created_at=ctx.now, expires_at=ctx.now + ctx.settings.invite_ttl)
    ctx.session.add(inv)
    ctx.session.flush()
    bot = ctx.bot_names.get("telegram")
    link = ctx.t("inv.link", url=f"https://t.me/{bot}?start={token}") if bot else ctx.t("inv.no_bot_name")
    return Reply(views=(
        Header(ctx.t("inv.title", customer=customer.name, contact=contact.name)),
        Text(link),
        Text(ctx.t("inv.start_line", line=f"/start {token}")),
        Text(ctx.t("inv.expires", at=ctx.fmt_dt(inv.expires_at)), muted=True),
    ))


def redeem(ctx: Ctx, token: str) -> Reply:
    """`/start TOKEN` from a customer's chat: bind the chat, or explain politely why not."""
    token = token.strip()
    inv = ctx.session.scalar(select(Invite).where(Invite.token_hash == token_hash(token))) \
        if TOKEN_RE.match(token) else None
    if inv is None:
        return Reply(views=(Text(ctx.t("inv.invalid")),))
    if inv.used_at is not None:
        return Reply(views=(Text(ctx.t("inv.used")),))
    if inv.expires_at <= ctx.now:
        return Reply(views=(Text(ctx.t("inv.expired")),))
    chat_num = int(ctx.chat_ref) if re.fullmatch(r"-?\d{1,18}", ctx.chat_ref) else None
    res = ctx.session.execute(update(Invite).where(Invite.id == inv.id, Invite.used_at.is_(None))
                              .values(used_at=ctx.now, used_chat=chat_num)
                              .execution_options(synchronize_session=False))
    if res.rowcount != 1:
        return Reply(views=(Text(ctx.t("inv.used")),))
    # insert-or-ignore, then the row under its lock: two invites used in one chat at once bind it one after the other
    insert_ignore(ctx.session, ChatBinding, conflict=["platform", "chat_ref"], platform=ctx.platform,
                  chat_ref=ctx.chat_ref, customer_id=inv.customer_id, contact_id=inv.contact_id, lang=ctx.lang,
                  created_at=ctx.now)
    b = ctx.session.scalar(select(ChatBinding).where(ChatBinding.platform == ctx.platform,
                                                     ChatBinding.chat_ref == ctx.chat_ref)
                           .with_for_update().execution_options(populate_existing=True))
    b.customer_id, b.contact_id, b.user_ref = inv.customer_id, inv.contact_id, ctx.user_ref
    ctx.session.flush()
    ctx.binding = b
    customer = ctx.session.get(Customer, inv.customer_id)
    contact = ctx.session.get(Contact, inv.contact_id)
    return Reply(views=(Text(ctx.t("inv.welcome", contact=contact.name if contact else "",
                                   customer=customer.name if customer else "")),
                        Text(ctx.t("inv.what_now"), muted=True)))
