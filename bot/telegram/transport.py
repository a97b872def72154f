"""The outbox's Telegram `Transport` (bot/delivery.py): synchronous send/edit on the bot's event loop.

The outbox sender runs in its own thread; each call is scheduled on the Application's loop with
`run_coroutine_threadsafe` and waited for. Telegram errors map to the delivery contract: flood control →
`RetryAfter`, network trouble and 5xx → `Transient`, a bad request or a blocked bot → `Permanent`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot import delivery
from bot.telegram.limiter import retry_seconds
from handlers.views import Reply

if TYPE_CHECKING:
    from bot.telegram.app import TelegramBot

TIMEOUT = 120.0


def chat_id(chat_ref: str) -> int | str:
    return int(chat_ref) if chat_ref.lstrip("-").isdigit() else chat_ref


def translate(e: TelegramError) -> delivery.DeliveryError:
    """A PTB error as the delivery contract's error (order matters: BadRequest is a NetworkError)."""
    if isinstance(e, RetryAfter):
        return delivery.RetryAfter(retry_seconds(e), str(e))
    if isinstance(e, BadRequest | Forbidden | InvalidToken | ChatMigrated | Conflict):
        return delivery.Permanent(f"{type(e).__name__}: {e}")
    if isinstance(e, NetworkError):
        return delivery.Transient(f"{type(e).__name__}: {e}")
    return delivery.Permanent(f"{type(e).__name__}: {e}")


class TelegramTransport:
    platform = "telegram"

    def __init__(self, bot: TelegramBot) -> None:
        self.bot = bot

    def _run(self, coro):  # noqa: ANN001, ANN202
        loop = self.bot.loop
        if loop is None or loop.is_closed():
            coro.close()
            raise delivery.Transient("the Telegram bot is not running")
        try:
            return asyncio.run_coroutine_threadsafe(coro, loop).result(TIMEOUT)
        except TelegramError as e:
            raise translate(e) from None
        except TimeoutError:
            raise delivery.Transient("timed out waiting for the Bot API") from None

    def send(self, chat_ref: str, reply: Reply, *, scope: str) -> str:
        sent = self._run(self.bot.deliver(chat_id(chat_ref), reply, scope=scope, bulk=True))
        if not sent:
            raise delivery.Permanent("nothing to send: empty reply")
        return str(sent[0].message_id)

    def edit(self, chat_ref: str, message_ref: str, reply: Reply, *, scope: str) -> None:
        self._run(self.bot.deliver(chat_id(chat_ref), reply, scope=scope, edit_message_id=int(message_ref),
                                   bulk=True))

