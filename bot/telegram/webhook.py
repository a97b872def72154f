"""Webhook mode: Telegram's POSTs on the one HTTP server (bot/web/server.py), fed to the Application.

`setWebhook` registers the public URL with a secret token; Telegram echoes it in the
`X-Telegram-Bot-Api-Secret-Token` header. The header is checked first (403 and one log line otherwise, nothing
read or parsed), then the body is read within the server's limits and parsed: a body that is not a JSON
object, or not an update, is a 400. The route is the URL's path (`https://bot.example.com/tg` → `/tg`).

The server may run on the bot's own event loop (`crm-bot run telegram --webhook`) or on a loop of its own
beside Slack's route (`crm-bot run all --http --webhook-url …`): the update is then handed to the bot's loop.
An update is handled before the request is answered, so a crash means a redelivery (de-duplicated), never a
lost update.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update

from bot.web.server import Handler, Refused, WebServer, read_body

if TYPE_CHECKING:
    from bot.telegram.app import TelegramBot, Webhook

log = logging.getLogger("crm.telegram.webhook")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query"]


def shared_secret(key: bytes) -> str:
    """The webhook secret when TELEGRAM_WEBHOOK_SECRET is empty: derived from the signing key every instance on
    one database shares (CRM_SECRET_KEY, or the key kept in the database), so that several instances behind one
    URL agree — whichever registered the webhook last, the others accept Telegram's posts too. 43 characters
    of A-Z a-z 0-9 _ -, as Telegram allows; the key cannot be recovered from it."""
    digest = hmac.new(key, b"crm-bot telegram webhook secret", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def webhook_path(url: str) -> str:
    return urlparse(url).path or "/"


def telegram_route(bot: TelegramBot, secret: str) -> Handler:
    async def on_telegram_update(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            raise Refused(403, "wrong or missing secret token")
        raw = await read_body(request)
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            raise Refused(400, "body is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise Refused(400, "body is not an update")
        try:
            update = Update.de_json(data, bot.bot)
        except Exception as e:  # noqa: BLE001 - whatever failed to build, it is not an update
            raise Refused(400, f"body is not an update ({type(e).__name__})") from None
        if bot.loop is None:
            raise Refused(503, "the bot is starting")
        # Processed before the 200: if the bot dies meanwhile, Telegram delivers the update again and the
        # core's update_id de-duplication keeps it to one effect.
        work = bot.application.process_update(update)
        if asyncio.get_running_loop() is bot.loop:
            await work
        else:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, bot.loop))
        return web.Response(text="ok")

    return on_telegram_update


def add_telegram(server: WebServer, bot: TelegramBot, hook: Webhook) -> None:
    """Serve `hook`'s path on `server` for `bot`; the secret is the configured one, or `shared_secret`."""
    bot.webhook_secret = hook.secret or shared_secret(bot.core.secret)
    server.add_post(webhook_path(hook.url), telegram_route(bot, bot.webhook_secret))


async def register_webhook(bot: TelegramBot, hook: Webhook) -> None:
    await bot.bot.set_webhook(hook.url, secret_token=bot.webhook_secret, allowed_updates=ALLOWED_UPDATES,
                              max_connections=40)
    log.info("webhook registered: Telegram posts to %s", webhook_path(hook.url))
