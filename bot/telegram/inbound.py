"""Translate Telegram updates into the core's `Inbound` (translation only: no state, no I/O)."""

from __future__ import annotations

from telegram import Message, Update

from handlers.context import Attachment, Inbound

PLATFORM = "telegram"
GROUP_TYPES = ("group", "supergroup")


def chat_scope(chat_id: int | str) -> str:
    return f"c:{chat_id}"


def addressed_elsewhere(text: str, username: str | None) -> bool:
    """`/help@other_bot` in a group is for another bot."""
    if not text.startswith("/"):
        return False
    verb = text.split(maxsplit=1)[0]
    if "@" not in verb:
        return False
    return not username or verb.split("@", 1)[1].lower() != username.lower()


def update_key(update: Update) -> str:
    """The de-duplication key: `<bot id>:<update_id>`. update_ids are per bot (and restart from a random value
    after a week of silence), so a new bot token must not collide with the old bot's processed updates."""
    try:
        bot_id = update.get_bot().token.split(":", 1)[0]
    except RuntimeError:  # an update built without a bot (unit tests)
        bot_id = ""
    return f"{bot_id}:{update.update_id}" if bot_id else str(update.update_id)


def _common(update: Update, chat_id: int) -> dict:
    user = update.effective_user
    return dict(platform=PLATFORM, user_ref=str(user.id), chat_ref=str(chat_id),
                lang_hint=user.language_code, display_name=user.full_name,
                update_key=update_key(update), scopes=(chat_scope(chat_id),))


def from_message(update: Update, *, bot_username: str | None = None) -> Inbound | None:
    """A text message or command → Inbound; None for what the bot ignores (other bots' commands)."""
    msg: Message | None = update.message
    if msg is None or update.effective_user is None or msg.text is None:
        return None
    if addressed_elsewhere(msg.text, bot_username):
        return None
    return Inbound(text=msg.text, is_group=msg.chat.type in GROUP_TYPES, **_common(update, msg.chat.id))


def wants_file_read(update: Update, *, bot_username: str | None = None) -> bool:
    """A document the bot should read: any in a private chat; in a group only with an `/import` caption
    addressed to no other bot."""
    msg = update.message
    if msg is None or msg.document is None or update.effective_user is None:
        return False
    if msg.chat.type not in GROUP_TYPES:
        return True
    caption = (msg.caption or "").strip()
    verb = caption.split(maxsplit=1)[0].split("@", 1)[0].lower() if caption else ""
    return verb in ("/import", "/导入") and not addressed_elsewhere(caption, bot_username)


def from_document(update: Update, *, path: str) -> Inbound:
    """A document (a spreadsheet to import) → Inbound; `path` is where the adapter downloaded it ("" when it
    did not: too big for a bot to fetch)."""
    msg = update.message
    doc = msg.document
    att = Attachment(name=doc.file_name or "file", size=doc.file_size or 0, path=path)
    return Inbound(text=msg.caption or "", attachment=att, is_group=msg.chat.type in GROUP_TYPES,
                   **_common(update, msg.chat.id))


def from_callback(update: Update) -> Inbound | None:
    """A button press → Inbound carrying the (untrusted) token; None when there is no chat to tie it to."""
    q = update.callback_query
    if q is None or q.message is None or not q.data:
        return None
    chat = q.message.chat
    return Inbound(token=q.data, is_group=chat.type in GROUP_TYPES, **_common(update, chat.id))
