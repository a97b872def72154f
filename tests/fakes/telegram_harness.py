"""Run the real Telegram bot against `FakeTelegram` from synchronous tests.

    fake = FakeTelegram().start()
    with running_bot(core, fake) as tb:        # polling; `webhook=Webhook(...)` for webhook mode
        fake.push_message(chat_id=1003, user_id=1003, text="/help")
        [msg] = fake.wait_sent(1003)
        tb.sender.drain()                      # deliver outbox rows now (or let the sender thread do it)

The bot runs its own event loop in a background thread (`BotThread`), exactly as `crm-bot run telegram`
does (`TelegramBot.run`), with fast polling and a generous rate limiter so tests do not wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

from bot.telegram.app import TelegramBot, Webhook
from bot.telegram.limiter import Limits
from handlers.router import Core
from tests.fakes.telegram_api import FakeTelegram

FAST = Limits(overall_per_s=1000, overall_burst=1000, chat_per_s=1000, chat_burst=1000, group_per_min=60000,
              group_burst=1000)


class BotThread:
    def __init__(self, bot: TelegramBot, *, webhook: Webhook | None = None) -> None:
        self.bot = bot
        self.webhook = webhook
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="telegram-bot", daemon=True)

    def _main(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            await self.bot.run(self._stop, webhook=self.webhook, ready=self.ready)

        try:
            asyncio.run(main())
        except BaseException as e:  # noqa: BLE001 - reported to the test
            self.error = e
            self.ready.set()

    def start(self, timeout: float = 15.0) -> BotThread:
        self._thread.start()
        if not self.ready.wait(timeout):
            raise AssertionError("the Telegram bot did not start")
        if self.error:
            raise AssertionError(f"the Telegram bot failed to start: {self.error!r}")
        return self

    def stop(self, timeout: float = 15.0) -> None:
        if self._loop and self._stop and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError("the Telegram bot did not stop")


def make_bot(core: Core, fake: FakeTelegram, *, service_chat: str = "", limits: Limits | None = FAST,
             api_url: str | None = None, sender_interval: float = 3600.0,
             poll_when_leading: bool = False) -> TelegramBot:
    """The real bot against the fake. The sender thread only wakes on `core.on_outbox` (tests may also
    call `bot.sender.drain()` themselves)."""
    return TelegramBot(core, token=fake.token, api_url=api_url or fake.root, service_chat=service_chat,
                       limits=limits, poll_timeout=1.0, sender_interval=sender_interval,
                       poll_when_leading=poll_when_leading)


@contextlib.contextmanager
def running_bot(core: Core, fake: FakeTelegram, *, webhook: Webhook | None = None,
                **kw: object) -> Iterator[TelegramBot]:
    bot = make_bot(core, fake, **kw)  # type: ignore[arg-type]
    runner = BotThread(bot, webhook=webhook).start()
    try:
        yield bot
    finally:
        runner.stop()
