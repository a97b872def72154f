"""The Telegram bot: a python-telegram-bot `Application` on the core, with the outbox sender.

    bot = TelegramBot(core, token=..., api_url=..., service_chat=...)
    bot.run_forever()                                  # long polling (crm-bot run telegram)
    bot.run_forever(webhook=Webhook(url=..., port=8443, secret=...))

Several instances on one PostgreSQL database (docs/scaling.md): Telegram answers a second concurrent
`getUpdates` of one token with 409 Conflict, so with `poll_when_leading` the bot long-polls only while this
instance holds the scheduler lease. `bot.services.start_background` calls `lead()` when the instance is elected
and `step_down()` when it is deposed (from the leadership thread); both hand the switch to the bot's event loop
(`updater.start_polling` / `updater.stop`). A follower still delivers its outbox rows and serves HTTP.

`TELEGRAM_API_URL` is the Bot API server's root (`https://api.telegram.org`, `http://host:8081`); a value
already ending in `/bot` is accepted too. `run(stop)` is the async life cycle the CLI and the tests share:
initialize (getMe), set the command menus, start polling or the webhook server, start the outbox sender
(woken by `core.on_outbox`), wait for `stop`, shut everything down.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import signal
import threading
from dataclasses import dataclass

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.outbox import Sender
from bot.telegram import listeners, menus
from bot.telegram.limiter import BULK, Limiter, Limits
from bot.telegram.render import MAX_CALLBACK, Outgoing, Signer, render
from bot.telegram.transport import TIMEOUT, TelegramTransport, translate
from bot.telegram.webhook import ALLOWED_UPDATES, add_telegram, register_webhook
from bot.web.server import WebServer
from handlers import actions
from handlers.router import Core
from handlers.settings import DomainSettings
from handlers.views import Reply
from storage.db import make_engine

log = logging.getLogger("crm.telegram")

DEFAULT_API = "https://api.telegram.org"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
POLL_RETRY = 5.0  # seconds before an elected instance tries again to start polling (the Bot API was away)
STOP_POLL_WAIT = 15.0  # seconds a deposed instance waits for its poller to stop before the next leader polls


def api_urls(api_url: str = "") -> tuple[str, str]:
    """(base_url, base_file_url) for PTB from a Bot API root, with or without a trailing `/bot`."""
    root = (api_url or DEFAULT_API).strip().rstrip("/")
    if root.endswith("/bot"):
        root = root[: -len("/bot")]
    return f"{root}/bot", f"{root}/file/bot"


@dataclass(frozen=True)
class Webhook:
    url: str  # the public HTTPS URL Telegram posts to
    port: int = 8443
    listen: str = "0.0.0.0"
    secret: str = ""  # TELEGRAM_WEBHOOK_SECRET; when empty, one derived from the shared signing key


def build_application(token: str, api_url: str = "", *, limits: Limits | None = None) -> Application:
    base, files = api_urls(api_url)
    return (ApplicationBuilder().token(token).base_url(base).base_file_url(files)
            .rate_limiter(Limiter(limits)).concurrent_updates(32).job_queue(None).build())


def markup(o: Outgoing) -> InlineKeyboardMarkup | None:
    if not o.rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(k.label, callback_data=k.data) for k in row]
                                 for row in o.rows])


class TelegramBot:
    def __init__(self, core: Core, *, token: str, api_url: str = "", service_chat: str = "",
                 limits: Limits | None = None, poll_timeout: float = 10.0,
                 sender_interval: float = 2.0, menu_refresh: float = 1800.0,
                 sender: Sender | None = None, poll_when_leading: bool = False) -> None:
        self.core = core
        # long polling only while this instance leads (`lead` / `step_down`); otherwise from the start
        self.poll_when_leading = poll_when_leading
        self.service_chat = service_chat
        self.poll_timeout = poll_timeout
        self.sender_interval = sender_interval
        self.application = build_application(token, api_url, limits=limits)
        self.application.bot_data["crm"] = self
        listeners.install(self.application)
        self.transport = TelegramTransport(self)
        # a shared `sender` (both platforms in one process, bot/run_both.py) is started and stopped by its owner
        self._own_sender = sender is None
        self.sender = sender or Sender(core.engine, {}, clock=core.clock)
        self.sender.transports["telegram"] = self.transport
        self.loop: asyncio.AbstractEventLoop | None = None
        self.username: str | None = None
        self._secret: bytes | None = None
        self._server: WebServer | None = None  # the HTTP server this bot started itself (webhook mode)
        self.webhook_port: int | None = None
        self.webhook_secret = ""
        self.chat_locks = listeners.ChatLocks(also=lambda chat: self.sender.holding("telegram", str(chat)))
        self.menu_refresh = menu_refresh
        self._menus_set: dict = {}
        self._tasks: list[asyncio.Task] = []
        self._pending: set[asyncio.Task] = set()
        self._gated = False  # this run polls only while leading (polling mode with `poll_when_leading`)
        self._poll_wanted = False
        self._poll_lock: asyncio.Lock | None = None
        self._closing = False

    @property
    def bot(self):  # noqa: ANN201 - telegram.Bot (ExtBot)
        return self.application.bot

    # ------------------------------------------------------------ rendering and sending
    def signer(self, scope: str) -> Signer:
        secret = self._secret or self.core.secret

        def sign(cmd: str) -> str:
            token = actions.encode(cmd, scope=scope, secret=secret, now=self.core.clock())
            assert len(token.encode()) <= MAX_CALLBACK, token
            return token

        return sign

    async def deliver(self, chat_id: int | str, reply: Reply, *, scope: str, edit_message_id: int | None = None,
                      or_send: bool = False, bulk: bool = False) -> list[Message]:
        """Send `reply` to `chat_id`, or edit `edit_message_id` with its first part (`or_send`: send it
        as a new message when that message cannot be edited any more). `bulk`: a notification from the outbox,
        paced by the overall broadcast limit as well as the chat's (`bot.telegram.limiter`)."""
        rl = BULK if bulk else None
        sent: list[Message] = []
        for i, o in enumerate(render(reply, sign=self.signer(scope))):
            if i == 0 and edit_message_id is not None:
                try:
                    m = await self.bot.edit_message_text(o.text, chat_id=chat_id, message_id=edit_message_id,
                                                         parse_mode=ParseMode.HTML, reply_markup=markup(o),
                                                         link_preview_options=NO_PREVIEW, rate_limit_args=rl)
                    if isinstance(m, Message):
                        sent.append(m)
                    continue
                except BadRequest as e:
                    if "not modified" in str(e).lower():
                        continue
                    if not or_send:
                        raise
            sent.append(await self.bot.send_message(chat_id, o.text, parse_mode=ParseMode.HTML,
                                                    reply_markup=markup(o), link_preview_options=NO_PREVIEW,
                                                    rate_limit_args=rl))
        if reply.file:
            sent.append(await self._send_file(chat_id, reply, rl))
        return sent

    async def _send_file(self, chat_id: int | str, reply: Reply, rl: str | None) -> Message:
        f = reply.file
        caption = (f.title or "")[:1024] or None
        with open(f.path, "rb") as fh:
            if f.mime.startswith("image/"):
                return await self.bot.send_photo(chat_id, fh, caption=caption, filename=f.name, rate_limit_args=rl)
            return await self.bot.send_document(chat_id, fh, filename=f.name, caption=caption, rate_limit_args=rl)

    # ------------------------------------------------------------ command menus
    async def sync_commands(self) -> int:
        """Set the command menus that changed since the last call; returns how many were set."""
        specs = await asyncio.to_thread(menus.menus, self.core, service_chat=self.service_chat,
                                        default_lang=self.core.settings.default_lang)
        wanted = {(m.chat_id, m.language_code) for m in specs}
        specs += [menus.Menu(chat, lang, ()) for (chat, lang), cmds in self._menus_set.items()
                  if chat is not None and cmds and (chat, lang) not in wanted]  # e.g. the former service group
        done = 0
        for m in specs:
            if self._menus_set.get((m.chat_id, m.language_code)) == m.commands:
                continue
            scope = BotCommandScopeDefault() if m.chat_id is None else BotCommandScopeChat(m.chat_id)
            try:
                if m.commands:
                    await self.bot.set_my_commands([BotCommand(c, d) for c, d in m.commands], scope=scope,
                                                   language_code=m.language_code)
                else:  # a former staff member or service group: back to the default (customer) menu
                    await self.bot.delete_my_commands(scope=scope, language_code=m.language_code)
            except TelegramError as e:  # e.g. a staff member who never opened the bot: not fatal
                log.warning("setMyCommands for %s failed: %s", m.chat_id or "default", e)
                if m.commands:
                    continue
            self._menus_set[(m.chat_id, m.language_code)] = m.commands
            done += 1
        return done

    def menus_changed(self) -> None:
        """Someone switched language (or similar): set the menus again soon, without waiting for the timer."""
        self._later(self._sync_quietly())

    async def _sync_quietly(self) -> None:
        try:
            await self.sync_commands()
        except Exception:  # noqa: BLE001 - a menu is cosmetic; never stop the bot for it
            log.exception("refreshing command menus failed")

    async def _refresh_menus(self) -> None:
        """New staff, changed roles and languages reach the menus without a restart."""
        while True:
            await asyncio.sleep(self.menu_refresh)
            await self._sync_quietly()

    # ------------------------------------------------------------ long polling by the scheduler leader
    @property
    def polling(self) -> bool:
        """Whether this bot is long-polling getUpdates right now."""
        updater = self.application.updater
        return bool(updater and updater.running)

    def lead(self) -> None:
        """This instance was elected (called from the leadership thread): start long polling. Returns at once;
        the bot's loop starts the poller and, if the Bot API is away, tries again every `POLL_RETRY` s."""
        self._switch_polling(True, wait=None)

    def step_down(self) -> None:
        """This instance lost the lease or stops (the leadership thread): stop long polling, waiting until the
        poller stopped (at most `STOP_POLL_WAIT` s) so that the next leader is the only poller."""
        self._switch_polling(False, wait=STOP_POLL_WAIT)

    def _switch_polling(self, on: bool, *, wait: float | None) -> None:
        loop = self.loop
        if not self._gated or self._closing or loop is None or loop.is_closed():
            return  # webhook mode, polling from the start, or the bot has stopped (its poller with it)
        future = asyncio.run_coroutine_threadsafe(self._set_polling(on), loop)
        if wait is None:
            return
        try:
            future.result(wait)
        except concurrent.futures.TimeoutError:
            log.warning("telegram: long polling did not stop within %s s", wait)

    async def _set_polling(self, on: bool) -> None:
        """Start or stop the poller (on the bot's loop); the last wish wins when switches queue up."""
        self._poll_wanted = on
        assert self._poll_lock is not None
        async with self._poll_lock:
            updater = self.application.updater
            if self._closing or updater is None:
                return
            if not self._poll_wanted and updater.running:
                await updater.stop()
                log.info("telegram: long polling stopped (this instance no longer leads)")
            elif self._poll_wanted and not updater.running:
                try:
                    await updater.start_polling(timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES)
                except (TelegramError, OSError) as e:
                    log.warning("telegram: cannot start long polling (%s: %s); trying again in %s s",
                                type(e).__name__, str(e)[:200], POLL_RETRY)
                    self._later(self._retry_polling())
                else:
                    log.info("telegram: long polling started (this instance leads)")

    async def _retry_polling(self) -> None:
        await asyncio.sleep(POLL_RETRY)
        if self._poll_wanted:
            await self._set_polling(True)

    def _later(self, coro) -> None:  # noqa: ANN001 - a coroutine, cancelled on shutdown
        task = asyncio.create_task(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    # ------------------------------------------------------------ life cycle
    async def run(self, stop: asyncio.Event, *, webhook: Webhook | None = None,
                  ready: threading.Event | None = None, server: WebServer | None = None) -> None:
        """Webhook mode: `server` already serves the webhook's path (`add_telegram`, the CLI's one HTTP server);
        without one, the bot serves it on `webhook.listen:webhook.port` itself, on its own loop."""
        self.loop = asyncio.get_running_loop()
        self._closing, self._poll_wanted = False, False
        self._poll_lock = asyncio.Lock()
        self._gated = self.poll_when_leading and webhook is None
        self._secret = await asyncio.to_thread(lambda: self.core.secret)
        app = self.application
        await app.initialize()
        self.username = app.bot.username
        if self.username and not self.core.bot_names.get("telegram"):  # invite links need it (getMe knows it)
            self.core.bot_names["telegram"] = self.username
        try:
            await self._sync_quietly()  # the database may be away at start: answer "busy" rather than not start
            await app.start()
            if webhook:
                if server is None:
                    self._server = server = WebServer(host=webhook.listen, port=webhook.port)
                    add_telegram(server, self, webhook)
                    await server.start_async()
                self.webhook_port = int(server.url.rsplit(":", 1)[1])
                await register_webhook(self, webhook)
            elif not self._gated:
                await app.updater.start_polling(timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES)
            if self._own_sender:
                self.core.on_outbox.append(self.sender.wake)
                self.sender.start(interval=self.sender_interval)
            self._tasks.append(asyncio.create_task(self._refresh_menus()))
            log.info("telegram bot @%s running (%s)", self.username, "webhook" if webhook else
                     "polling while this instance leads the scheduler" if self._gated else "polling")
            if ready:
                ready.set()
            await stop.wait()
        finally:
            await self._shutdown()

    async def _shutdown(self) -> None:
        self._closing = True  # a late lead() / step_down() changes nothing now
        for task in [*self._tasks, *self._pending]:
            task.cancel()
        self._tasks.clear()
        if self._own_sender:
            if self.sender.wake in self.core.on_outbox:
                self.core.on_outbox.remove(self.sender.wake)
            await asyncio.to_thread(self.sender.stop)
        app = self.application
        if self._server is not None:
            await self._server.stop_async()
            self._server = None
        async with self._poll_lock or asyncio.Lock():  # let a poller that is starting finish first
            if app.updater and app.updater.running:
                await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    def run_forever(self, webhook: Webhook | None = None, *, ready: threading.Event | None = None,
                    server: WebServer | None = None) -> None:
        """Run until SIGINT/SIGTERM (the CLI). `ready` is set once the bot is connected and receiving."""

        logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the bot token in URLs

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await self.run(stop, webhook=webhook, ready=ready, server=server)

        asyncio.run(main())


def transport_from_config(cfg) -> TelegramTransport:  # noqa: ANN001 - bot.config.Config
    """A transport for a process that is not the running bot (`crm-bot jobs run`, `outbox deliver`).

    It starts the Bot API client on an event loop of its own in a daemon thread (getMe once), so the outbox
    sender can deliver Telegram messages from the command line with the configured token.
    """
    core = Core(make_engine(cfg.database_url), DomainSettings(), secret=cfg.secret())
    bot = TelegramBot(core, token=cfg.telegram_bot_token, api_url=cfg.telegram_api_url,
                      service_chat=cfg.telegram_service_chat)
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="telegram-cli-loop", daemon=True).start()
    try:
        asyncio.run_coroutine_threadsafe(bot.application.initialize(), loop).result(TIMEOUT)
    except TelegramError as e:
        raise translate(e) from None
    bot._secret = core.secret
    bot.loop = loop
    return bot.transport
