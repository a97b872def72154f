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
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from telegram import CallbackQuery, Document, Update
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.outbox import queue_reply
from bot.telegram import inbound as tin
from bot.telegram.limiter import retry_seconds
from bot.telegram.render import alert_text
from handlers.context import Inbound
from handlers.i18n import t
from handlers.router import failure_reply
from handlers.services import import_chat
from handlers.views import Reply

log = logging.getLogger("crm.telegram")


BOT_API_FILE_LIMIT = 20 * 1024 * 1024  # getFile serves files up to 20 MB
PROGRESS_WAIT = 10.0  # seconds an import waits for its progress edit to go out


def install(app: Application) -> None:
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, on_text))
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.Document.ALL, on_document))
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


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A spreadsheet sent as a document by a staff member: downloaded into a private temporary folder (deleted
    once the core answered: it keeps its own copy for the Import button) and handed to the core. A customer's
    or stranger's document is not fetched."""
    crm = context.bot_data["crm"]
    if not tin.wants_file_read(update, bot_username=crm.username):
        return
    chat, user = update.effective_chat, update.effective_user
    limit = min(crm.core.settings.import_max_mb * 1024 * 1024, BOT_API_FILE_LIMIT)
    async with crm.chat_locks.hold(chat.id):  # first: the chat's messages are answered in order
        who = await asyncio.to_thread(crm.core.actor, tin.PLATFORM, str(user.id), str(chat.id))
        if who.role is None:
            if chat.type == "private":
                await on_other(update, context)
            return
        with tempfile.TemporaryDirectory(prefix="crm-upload-") as tmp:
            path = await _download(context, update.message.document, Path(tmp), limit, who.role)
            inbound = tin.from_document(update, path=path)
            progress, posted = placeholder_to(crm, chat.id, inbound.scopes[0])
            reply = await asyncio.to_thread(crm.core.handle, inbound, progress=progress)
        await send_answer(crm, chat.id, reply, inbound, edit_message_id=posted.get("message_id"))


async def _download(context: ContextTypes.DEFAULT_TYPE, doc: Document, folder: Path, limit: int,
                    role: str | None) -> str:
    """getFile, then the file from the Bot API's file URL; "" when it is no spreadsheet, larger than `limit`,
    sent by someone who may not import, or the Bot API would not give it (the core then says why)."""
    if not import_chat.fetch_for(role, doc.file_name or "", doc.file_size or 0, limit // import_chat.MB):
        return ""
    dest = folder / ("upload" + Path(doc.file_name or "").suffix.lower()[:10])
    try:
        f = await context.bot.get_file(doc.file_id)
        await f.download_to_drive(dest)
    except BadRequest as e:  # "file is too big" and the like: the user is told to send it again
        log.warning("could not fetch a document: %s", e)
        return ""
    if dest.stat().st_size > limit:
        return ""
    return str(dest)


def placeholder_to(crm, chat_id: int, scope: str) -> tuple[Callable[[Reply], None], dict]:  # noqa: ANN001
    """Progress before there is a message to edit (checking a big file): the first line is sent, the next ones
    edit it, and so does the answer (`message_id` in the returned state)."""
    loop = asyncio.get_running_loop()
    state: dict = {}

    async def put(reply: Reply) -> None:
        if state.get("message_id"):
            await crm.deliver(chat_id, reply, scope=scope, edit_message_id=state["message_id"])
        else:
            sent = await crm.deliver(chat_id, reply, scope=scope)
            state["message_id"] = sent[0].message_id if sent else None

    def show(reply: Reply) -> None:
        try:
            asyncio.run_coroutine_threadsafe(put(reply), loop).result(PROGRESS_WAIT)
        except (TelegramError, TimeoutError) as e:  # a progress line lost is no reason to stop the check
            log.warning("progress message in %s failed: %s", chat_id, type(e).__name__)

    return show, state


def progress_to(crm, q: CallbackQuery, scope: str) -> tuple[Callable[[Reply], None], dict]:  # noqa: ANN001
    """Called from the core's worker thread while a long action (an import) runs: the first call stops the
    button's spinner at once (no waiting a minute for the answer), each call edits the pressed message.
    Returns the callback and its state (`answered`)."""
    loop = asyncio.get_running_loop()
    chat_id, message_id = q.message.chat.id, q.message.message_id
    state = {"answered": False}

    async def edit(reply: Reply) -> None:
        if not state["answered"]:
            state["answered"] = True
            await _answer(q, None)
        await crm.deliver(chat_id, reply, scope=scope, edit_message_id=message_id)

    def show(reply: Reply) -> None:
        fut = asyncio.run_coroutine_threadsafe(edit(reply), loop)
        try:
            fut.result(PROGRESS_WAIT)
        except (TelegramError, TimeoutError) as e:  # a progress line lost is no reason to stop the import
            log.warning("progress edit in %s failed: %s", chat_id, type(e).__name__)

    return show, state


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
        progress, shown = progress_to(crm, q, inbound.scopes[0])
        try:
            reply = await asyncio.to_thread(crm.core.handle, inbound, progress=progress)
            alert = alert_text(reply)
        finally:
            if not shown["answered"]:
                await _answer(q, alert)
        if alert is None or shown["answered"]:  # after progress lines, even a refusal replaces them
            edit = q.message.message_id if reply.replace or shown["answered"] else None
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
