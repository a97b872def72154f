"""Telegram `/log` updates per second: our bot (polling) against a bare python-telegram-bot Application built
the same way (`build_application`: our rate limiter with the same limits, same concurrency) whose only handler
answers `/log` with one message; all against the tests' fake Bot API. Bursts of `per_user` updates from each
of `n_users` reps, timed until every reply was sent."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time

from sqlalchemy import text
from sqlalchemy.engine import Engine
from telegram import Update
from telegram.error import NetworkError
from telegram.ext import Application, CommandHandler, ContextTypes

from bench.report import Row, median
from bot.telegram.app import TelegramBot, build_application
from bot.telegram.limiter import Limits
from handlers.router import Core
from handlers.settings import DomainSettings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_harness import BotThread

_UPDATE_IDS = itertools.count(5_000_000)


class BareThread:
    """A bare Application polling in its own event loop (like `BotThread` for ours)."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        async with self.app:
            await self.app.start()
            await self.app.updater.start_polling(timeout=1.0)
            self.ready.set()
            await self._stop.wait()
            await self.app.updater.stop()
            await self.app.stop()

    def start(self, timeout: float = 15.0) -> BareThread:
        self._thread.start()
        if not self.ready.wait(timeout):
            raise RuntimeError("the bare Telegram app did not start")
        return self

    def stop(self) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)


def bare_app(fake: FakeTelegram, limits: Limits) -> Application:
    app = build_application(fake.token, fake.root, limits=limits)

    async def log(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        for attempt in range(3):  # the loopback fake drops a kept-alive connection now and then
            try:
                await context.bot.send_message(update.effective_chat.id, f"logged: {update.effective_message.text}")
                return
            except NetworkError:
                if attempt == 2:
                    raise

    app.add_handler(CommandHandler("log", log))
    return app


def users(engine: Engine, n: int) -> list[tuple[int, str]]:
    """(Telegram id, a customer code they own) for up to `n` reps."""
    with engine.connect() as c:
        rows = c.execute(text("SELECT s.telegram_id, min(c.code) FROM staff s JOIN customer c ON c.owner_id = s.id "
                              "WHERE s.role = 'rep' AND s.telegram_id IS NOT NULL GROUP BY s.id, s.telegram_id "
                              "ORDER BY s.id LIMIT :n"), {"n": n})
        return [(int(u), code) for u, code in rows]


def burst(fake: FakeTelegram, who: list[tuple[int, str]], per_user: int) -> float:
    """Queue `per_user` /log updates from each user; updates answered per second until every reply was sent."""
    before = len(fake.calls_of("sendMessage"))
    n = len(who) * per_user
    t0 = time.perf_counter()
    for j in range(per_user):
        for uid, code in who:
            u = fake.message_update(chat_id=uid, user_id=uid, text=f"/log {code} phone: bench call {j} next: in 3 days")
            u["update_id"] = next(_UPDATE_IDS)  # unique across the fakes: the core drops a redelivered update id
            fake.push_update(u)
    deadline = time.monotonic() + 120
    while len(fake.calls_of("sendMessage")) < before + n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(fake.calls_of('sendMessage')) - before} of {n} /log replies within 120 s")
        time.sleep(0.01)
    return n / (time.perf_counter() - t0)


PER_CHAT = Limits(overall_per_s=10_000, overall_burst=10_000)  # Telegram's documented reply limit: ~1/s per chat


def log_rows(engine: Engine, n_users: int, per_user: int, rounds: int) -> list[Row]:
    """Ours and the bare app both limited per chat only (what Telegram enforces for replies), and ours as shipped
    (`Limits()`: its 30 msg/s across all chats paces outbox broadcasts only, not these replies) against the
    same bare app; rounds interleaved."""
    who = users(engine, n_users)
    core = Core(engine, DomainSettings(_env_file=None), secret=b"bench")
    fakes = {k: FakeTelegram().start() for k in ("same", "shipped", "bare")}

    def ours(fake: FakeTelegram, limits: Limits) -> BotThread:
        return BotThread(TelegramBot(core, token=fake.token, api_url=fake.root, limits=limits, poll_timeout=1.0,
                                     sender_interval=3600.0))

    runners = {"same": ours(fakes["same"], PER_CHAT), "shipped": ours(fakes["shipped"], Limits()),
               "bare": BareThread(bare_app(fakes["bare"], PER_CHAT))}
    got: dict[str, list[float]] = {k: [] for k in runners}
    started: list[BotThread | BareThread] = []
    startup: dict[str, float] = {}
    try:
        for k, r in runners.items():
            t0 = time.perf_counter()
            r.start(300)  # ours sets every staff member's command menu first (one call each)
            startup[k] = time.perf_counter() - t0
            started.append(r)
            burst(fakes[k], who[:2], 1)  # warm-up
        for _ in range(rounds):
            for k in runners:
                time.sleep(1.5)  # the per-chat buckets refill between bursts
                got[k].append(burst(fakes[k], who, per_user))
    finally:
        for r in started:
            r.stop()
        for f in fakes.values():
            f.stop()
    bare, label = median(got["bare"]), f"({len(who)} users × {per_user})"
    with engine.connect() as c:
        staff = int(c.execute(text("SELECT count(*) FROM staff")).scalar_one())
    return [Row(f"Telegram /log updates {label} vs a bare python-telegram-bot Application, both limited per chat",
                "/s", median(got["same"]), bare, "≥ 0.6×", median(got["same"]) / bare >= 0.6),
            Row(f"Telegram /log updates {label}, as shipped (Limits(); 30 msg/s overall for broadcasts) vs the same bare app", "/s",
                median(got["shipped"]), bare, "≥ 0.6×", median(got["shipped"]) / bare >= 0.6),
            Row(f"Telegram bot start until it polls ({staff:,} staff: a command menu each) vs the bare app", "s",
                startup["same"], startup["bare"], "—", None)]
