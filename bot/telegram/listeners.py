"""Thin handlers: acknowledge, translate to `Inbound`, call the core in a worker thread, render and send.

Every callback query is answered (no endless spinner); a reply that is only an error (a forged, foreign or
expired button) is shown as a short alert and nothing else happens. The core de-duplicates redelivered
updates by `update_id`. Errors in the transport are logged with a reference and the user gets the generic
"Something went wrong (ref …)" message, never exception text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable

from telegram import CallbackQuery, Update
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.outbox import queue_reply
from bot.telegram import inbound as tin
from bot.telegram.limiter import retry_seconds
from bot.telegram.render import alert_text
from handlers.context import Inbound
from handlers.i18n import t
from handlers.router import failure_reply
from handlers.views import Reply

log = logging.getLogger("crm.telegram")


def install(app: Application) -> None:
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, on_text))
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & ~filters.TEXT,
                                   on_other))
    app.add_handler(CallbackQueryHandler(on_callback))
    app.add_error_handler(on_error)


class ChatLocks:
    """Updates are handled concurrently, but one chat's updates one at a time and in order (dialogs).

    `also(chat_id)` is a context held with the lock: the bot's outbox sender keeps the chat's queued rows back
    meanwhile, so the direct reply goes out before what its action queued (`Sender.holding`)."""

    def __init__(self, also: Callable[[int], contextlib.AbstractContextManager] | None = None) -> None:
        self._locks: dict[int, list] = {}  # chat id → [lock, holders and waiters]
        self.also = also or (lambda chat_id: contextlib.nullcontext())

    @contextlib.asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[None]:
        entry = self._locks.setdefault(chat_id, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                with self.also(chat_id):
                    yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[chat_id]


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    crm = context.bot_data["crm"]
    inbound = tin.from_message(update, bot_username=crm.username)
    if inbound is None:
        return
    async with crm.chat_locks.hold(update.effective_chat.id):
        reply = await asyncio.to_thread(crm.core.handle, inbound)
        await send_answer(crm, update.effective_chat.id, reply, inbound)
    if reply.lang_set or reply.menus_changed:
        crm.menus_changed()  # the staff menu in the new language (or the new service group's) now, not later


async def send_answer(crm, chat_id: int, reply: Reply, inbound: Inbound, *,  # noqa: ANN001 - TelegramBot
                      edit_message_id: int | None = None) -> None:
    """Send the core's answer. When the Bot API fails (5xx, a flood wait longer than the limiter waits, the
    network), the answer goes to the outbox and arrives later: what the user did is saved, so they are never
    told to try again."""
    try:
        await crm.deliver(chat_id, reply, scope=inbound.scopes[0], edit_message_id=edit_message_id,
                          or_send=edit_message_id is not None)
    except TelegramError as e:
        wait = retry_seconds(e) if isinstance(e, RetryAfter) else 0.0
        log.warning("answer to %s failed (%s): handed to the outbox", chat_id, type(e).__name__)
        await asyncio.to_thread(_queue_answer, crm, chat_id, reply, inbound, wait)


def _queue_answer(crm, chat_id: int, reply: Reply, inbound: Inbound, wait: float) -> None:  # noqa: ANN001
    core = crm.core
    key = f"reply:telegram:{inbound.update_key or secrets.token_hex(8)}"
    try:
        queue_reply(core.engine, key=key, platform="telegram", chat_ref=str(chat_id), scope=inbound.scopes[0],
                    reply=reply, now=core.clock(), wait=wait)
    except Exception:  # noqa: BLE001 - the database is away too: this answer is lost, the log says which
        log.exception("could not hand the answer to %s to the outbox (%s)", chat_id, key)
        return
    core.outbox_written()


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    await update.effective_chat.send_message(t(user.language_code if user else None, "tg.unsupported"))


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    crm = context.bot_data["crm"]
    q = update.callback_query
    inbound = tin.from_callback(update)
    if inbound is None:
        await _answer(q, None)
        return
    chat_id = q.message.chat.id
    async with crm.chat_locks.hold(chat_id):
        reply, alert = None, None
        try:
            reply = await asyncio.to_thread(crm.core.handle, inbound)
            alert = alert_text(reply)
        finally:
            await _answer(q, alert)
        if alert is None:
            edit = q.message.message_id if reply.replace else None
            await send_answer(crm, chat_id, reply, inbound, edit_message_id=edit)
    if reply is not None and (reply.lang_set or reply.menus_changed):
        crm.menus_changed()


async def _answer(q: CallbackQuery, alert: str | None) -> None:
    """Stop the button's spinner; an alert for a refused press. A query too old to answer is not an error."""
    try:
        await q.answer(text=alert, show_alert=bool(alert))
    except BadRequest as e:
        log.info("could not answer callback query: %s", e)
    except TelegramError as e:  # flood control or the network: the press was handled, its reply still goes out
        log.warning("could not answer callback query: %s: %s", type(e).__name__, e)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The boundary for what the core did not answer itself (a transport failure): the core's short answer."""
    user = update.effective_user if isinstance(update, Update) else None
    reply = failure_reply(user.language_code if user else None, context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    chat_id = update.effective_chat.id
    try:
        await context.bot_data["crm"].deliver(chat_id, reply, scope=tin.chat_scope(chat_id))
    except Exception:  # noqa: BLE001 - the transport itself is down; the log has it
        log.warning("could not tell the user about a failure")
