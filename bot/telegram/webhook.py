"""Webhook mode: an aiohttp server that takes Telegram's POSTs and feeds them to the Application.

`setWebhook` registers the public URL with a secret token; Telegram echoes it in the
`X-Telegram-Bot-Api-Secret-Token` header, and every request without the right one gets 403 and is dropped.
The server listens on the URL's path (`https://bot.example.com/tg` → `/tg`). An update is handled before
the request is answered, so a crash means a redelivery (de-duplicated), never a lost update.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update

if TYPE_CHECKING:
    from bot.telegram.app import TelegramBot, Webhook

log = logging.getLogger("crm.telegram.webhook")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query"]


def random_secret() -> str:
    return secrets.token_urlsafe(32)


def make_handler(bot: TelegramBot, secret: str):  # noqa: ANN201
    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook request with a wrong or missing secret token from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, bot.bot)
        except Exception:  # noqa: BLE001 - whatever the body is, it is not an update
            return web.Response(status=400, text="bad update")
        if update is None:
            return web.Response(status=400, text="bad update")
        # Processed before the 200: if the bot dies meanwhile, Telegram delivers the update again and the
        # core's update_id de-duplication keeps it to one effect.
        await bot.application.process_update(update)
        return web.Response(text="ok")

    return handle


async def start_webhook(bot: TelegramBot, hook: Webhook) -> web.AppRunner:
    secret = hook.secret or random_secret()
    path = urlparse(hook.url).path or "/"
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post(path, make_handler(bot, secret))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, hook.listen, hook.port)
    await site.start()
    bot.webhook_port = runner.addresses[0][1] if runner.addresses else hook.port
    await bot.bot.set_webhook(hook.url, secret_token=secret, allowed_updates=ALLOWED_UPDATES,
                              max_connections=40)
    log.info("webhook listening on %s:%s%s", hook.listen, bot.webhook_port, path)
    return runner
