"""Outbound rate limits for the Bot API, as a python-telegram-bot `BaseRateLimiter`.

Every request that posts or edits a message waits for a slot in its chat's token buckets: about 1 a second per
chat (short bursts allowed) and 20 a minute per group. Bulk notifications (what the outbox sends: digests,
reminders, channel posts; the caller passes `rate_limit_args=BULK`) also share about 30 a second overall, as
Telegram asks of broadcasts; replies to people's own messages do not wait behind them, nor behind each other
across chats. (PTB's `AIORateLimiter` applies its overall limit to every request, replies included, and has no
per-chat limit for private chats: it would bring back what this avoids.) A 429 with
`retry_after` pauses every request for that long and is retried `max_retries` times; after that (or when the
wait is longer than `max_wait`) the `RetryAfter` goes up to the caller: the outbox keeps the row for later.
A server error (5xx) or a refused connection is retried in place `server_retries` times, so a reply and the
messages its action queued keep their order.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger("crm.telegram.limiter")

LIMITED = frozenset({
    "sendMessage", "editMessageText", "editMessageReplyMarkup", "editMessageCaption", "sendDocument",
    "sendPhoto", "sendMediaGroup", "copyMessage", "forwardMessage", "sendChatAction",
})


def retry_seconds(e: RetryAfter) -> float:
    """`retry_after` in seconds (an int or a timedelta depending on PTB_TIMEDELTA)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ra = e.retry_after
    return ra.total_seconds() if isinstance(ra, timedelta) else float(ra)


@dataclass
class Bucket:
    """A token bucket that hands out reservations: `reserve(now)` is how long to wait for the next slot."""

    rate: float  # tokens per second
    capacity: float
    tokens: float | None = None  # None: full, never used
    at: float = 0.0

    def reserve(self, now: float) -> float:
        if self.tokens is None:
            self.tokens, self.at = self.capacity, now
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def idle(self, now: float) -> bool:
        return self.tokens is None or self.tokens + (now - self.at) * self.rate >= self.capacity


@dataclass(frozen=True)
class Limits:
    overall_per_s: float = 30.0
    overall_burst: float = 30.0
    chat_per_s: float = 1.0
    chat_burst: float = 3.0
    group_per_min: float = 20.0
    group_burst: float = 5.0
    max_retries: int = 1
    max_wait: float = 30.0
    server_retries: int = 2  # a 5xx or a refused connection: tried again in place, after 0.5 s then 1 s
    server_wait: float = 0.5


BULK = "bulk"  # rate_limit_args of a broadcast: it also takes a slot of the overall limit


def is_group(chat_id: object) -> bool:
    s = str(chat_id)
    return s.startswith("-") or s.startswith("@")


class Limiter(BaseRateLimiter[str]):
    def __init__(self, limits: Limits | None = None, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.limits = limits or Limits()
        self.clock = clock
        self.sleep = sleep
        lim = self.limits
        self.overall = Bucket(lim.overall_per_s, lim.overall_burst)
        self.chats: dict[str, Bucket] = {}
        self.groups: dict[str, Bucket] = {}
        self.paused_until = 0.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def delay_for(self, chat_id: object, *, bulk: bool = False) -> float:
        """Reserve a slot for a message to `chat_id` (`bulk`: a broadcast, also in the overall limit); the seconds
        to wait before sending it."""
        now = self.clock()
        lim = self.limits
        delay = max(self.paused_until - now, 0.0, self.overall.reserve(now) if bulk else 0.0)
        if chat_id is not None:
            key = str(chat_id)
            if len(self.chats) > 10_000:
                self.chats = {k: b for k, b in self.chats.items() if not b.idle(now)}
                self.groups = {k: b for k, b in self.groups.items() if not b.idle(now)}
            delay = max(delay, self.chats.setdefault(key, Bucket(lim.chat_per_s, lim.chat_burst)).reserve(now))
            if is_group(chat_id):
                group = self.groups.setdefault(key, Bucket(lim.group_per_min / 60.0, lim.group_burst))
                delay = max(delay, group.reserve(now))
        return delay

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: str | None) -> Any:
        if endpoint not in LIMITED:
            return await callback(*args, **kwargs)
        attempt = server_tries = 0
        while True:
            delay = self.delay_for(data.get("chat_id"), bulk=rate_limit_args == BULK)
            if delay > 0:
                await self.sleep(delay)
            try:
                return await callback(*args, **kwargs)
            except NetworkError as e:
                # only the plain kind (5xx, connection refused): not BadRequest, and not TimedOut, which may
                # have been delivered; one chat's messages keep their order because the retry is in place
                if type(e) is not NetworkError or server_tries >= self.limits.server_retries:
                    raise
                await self.sleep(self.limits.server_wait * 2 ** server_tries)
                server_tries += 1
                log.info("%s failed (%s): trying again (attempt %d)", endpoint, e, server_tries)
            except RetryAfter as e:
                wait = retry_seconds(e)
                if attempt >= self.limits.max_retries or wait > self.limits.max_wait:
                    raise
                attempt += 1
                self.paused_until = max(self.paused_until, self.clock() + wait)
                log.info("flood control on %s: waiting %ss (attempt %d)", endpoint, wait, attempt)
