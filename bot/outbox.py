"""The outbox sender: claims due rows and delivers them through the platform transports.

Retries: `RetryAfter` (HTTP 429) waits what the platform said, and this sender calls that platform again only
after the wait; `Transient` (5xx, network) backs off exponentially (2, 4, 8 … s, capped at 5 min) and fails the row
after `storage.outbox.MAX_ATTEMPTS`; `Permanent` fails the row at once. Failed rows stay visible
(`crm-bot outbox list --failed`) and can be queued again (`crm-bot outbox retry`).

One chat's rows go out in the order they were written (storage.outbox.claim), and not while an adapter
`holding` that chat is still sending a reply directly.

Rows are claimed one at a time (committed as `sending`) before being handed to the platform and marked `sent`
right after, so a row goes out once even with several senders, and a crash leaves at most one row claimed. If
the process dies between handing it over and marking it, the claim goes stale and a sender delivers that one
message again after `claim_timeout`: at most the message in flight at the crash repeats.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from bot.delivery import Permanent, RetryAfter, Transient, Transport
from handlers.views import Reply, from_json, to_json
from storage import outbox
from storage.db import session_scope, unavailable, utcnow
from storage.models import Outbox

log = logging.getLogger("crm.outbox")

RATE_LIMIT_MAX_ATTEMPTS = 30  # 429s are the platform pacing us, not a broken message: allow more of them


def default_claim_timeout() -> timedelta:
    """How long a claim lasts before another sender may take the row: `CRM_OUTBOX_CLAIM_TIMEOUT` seconds
    (default 300). It must exceed the longest delivery attempt, or a slow message could go out twice."""
    try:
        return timedelta(seconds=float(os.environ["CRM_OUTBOX_CLAIM_TIMEOUT"]))
    except (KeyError, ValueError):
        return outbox.STALE_CLAIM


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 10000}"


def queue_reply(engine: Engine, *, key: str, platform: str, chat_ref: str, scope: str, reply: Reply,
                now: datetime, wait: float = 0.0) -> bool:
    """The answer to an inbound message whose direct send failed, handed to the outbox: delivered like any
    notification (retried with backoff, after `wait` seconds when the platform asked for that). The action
    behind it is saved, so its answer must arrive; the user is never asked to try it again. `key` makes a
    second hand-over of the same answer a no-op."""
    with session_scope(engine) as s:
        return outbox.add(s, key=key, platform=platform, chat_ref=chat_ref, scope=scope, payload=to_json(reply),
                          now=now, due=now + timedelta(seconds=max(wait, 0.0)))


@dataclass(frozen=True)
class _Row:
    id: int
    key: str
    platform: str
    chat_ref: str
    scope: str
    payload: str
    edit_key: str | None


class Sender:
    def __init__(self, engine: Engine, transports: dict[str, Transport], *,
                 clock: Callable[[], datetime] = utcnow, worker: str | None = None,
                 chats: tuple[str, ...] | None = None,
                 claim_timeout: timedelta | None = None, batch: int = 20) -> None:
        self.engine = engine
        self.chats = chats
        self.transports = transports
        self.clock = clock
        self.worker = worker or worker_name()
        self.claim_timeout = claim_timeout or default_claim_timeout()
        self.batch = batch
        self._paused_until: dict[str, datetime] = {}  # platform → when it may be called again (after a 429)
        self._held: Counter[tuple[str, str]] = Counter()  # (platform, chat_ref) → adapters holding it
        self._held_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ direct replies first
    @contextlib.contextmanager
    def holding(self, platform: str, chat_ref: str) -> Iterator[None]:
        """While an adapter handles a message and sends its reply directly, this sender keeps that chat's rows
        back: what the action queued (the rating question) follows its reply ("ticket closed")."""
        key = (platform, chat_ref)
        with self._held_lock:
            self._held[key] += 1
        try:
            yield
        finally:
            with self._held_lock:
                self._held[key] -= 1
                if self._held[key] <= 0:
                    del self._held[key]
            self.wake()

    # ------------------------------------------------------------ one pass
    def drain_once(self, limit: int | None = None) -> int:
        """Deliver up to `limit` due rows; returns how many were sent."""
        return self._pass(limit or self.batch)[0]

    def drain(self, *, max_rounds: int = 100) -> int:
        """Deliver until nothing is due (or `max_rounds` batches). Returns how many rows were sent."""
        total = 0
        for _ in range(max_rounds):
            sent, handled = self._pass(self.batch)
            total += sent
            if handled == 0:
                break
        return total

    def _claim_one(self, platforms: tuple[str, ...]) -> _Row | None:
        """Claim one row (committed as `sending` before delivery: a crash leaves only it in flight). Claims and
        their outcomes are short and queue ahead of chat and jobs for SQLite's writer lock (storage/db.py)."""
        with session_scope(self.engine, urgent=True) as s:
            with self._held_lock:
                held = tuple(self._held)
            rows = outbox.claim(s, worker=self.worker, now=self.clock(), limit=1, platforms=platforms,
                                chats=self.chats, claim_timeout=self.claim_timeout, held=held)
            return _Row(*(getattr(rows[0], a) for a in _Row.__dataclass_fields__)) if rows else None

    def _pass(self, limit: int) -> tuple[int, int]:
        """(sent, handled) for up to `limit` rows. After a 429 that platform waits what the server said."""
        sent = handled = 0
        for _ in range(limit):
            now = self.clock()
            platforms = tuple(p for p in self.transports if self._paused_until.get(p, now) <= now)
            row = self._claim_one(platforms) if platforms else None
            if row is None:
                break
            handled += 1
            ok, wait = self._deliver(row)
            sent += ok
            if wait is not None:
                self._paused_until[row.platform] = now + wait
        return sent, handled

    def _edit_target(self, edit_key: str) -> str:
        with session_scope(self.engine, write=False) as s:
            orig = outbox.sent_ref(s, edit_key)
            status, ref = (orig.status, orig.message_ref) if orig else (None, None)
        if status == "sent" and ref:
            return ref
        if status in (None, "failed", "skipped"):
            raise Permanent(f"the message to edit ({edit_key}) was never sent")
        raise Transient(f"waiting for {edit_key} to be sent")

    def _deliver(self, row: _Row) -> tuple[int, timedelta | None]:
        """(1 if sent, the platform's wait after a 429 or None)."""
        transport = self.transports[row.platform]
        now = self.clock()
        try:
            reply = from_json(row.payload)
            if row.edit_key:
                ref = self._edit_target(row.edit_key)
                transport.edit(row.chat_ref, ref, reply, scope=row.scope)
            else:
                ref = transport.send(row.chat_ref, reply, scope=row.scope)
        except RetryAfter as e:
            wait = timedelta(seconds=max(e.seconds, 0.5))
            self._retry(row, now, wait, str(e), RATE_LIMIT_MAX_ATTEMPTS)
            return 0, wait
        except Transient as e:
            self._retry(row, now, self._backoff(row.id), str(e), outbox.MAX_ATTEMPTS)
            return 0, None
        except Permanent as e:
            log.warning("outbox %s failed for good: %s", row.key, e)
            with session_scope(self.engine, urgent=True) as s:
                outbox.mark_failed(s, row.id, error=str(e), worker=self.worker)
            return 0, None
        except Exception as e:  # noqa: BLE001 - a bug in a renderer must not stop the queue
            log.exception("outbox %s: unexpected error", row.key)
            self._retry(row, now, self._backoff(row.id), f"{type(e).__name__}: {e}", outbox.MAX_ATTEMPTS)
            return 0, None
        with session_scope(self.engine, urgent=True) as s:
            if not outbox.mark_sent(s, row.id, now=self.clock(), message_ref=ref, worker=self.worker):
                log.warning("outbox %s: delivered, but the claim had passed to another sender", row.key)
        return 1, None

    def _backoff(self, row_id: int) -> timedelta:
        with session_scope(self.engine, write=False) as s:
            row = s.get(Outbox, row_id)
            attempts = row.attempts if row else 1
        return timedelta(seconds=min(2 ** attempts, 300))

    def _retry(self, row: _Row, now: datetime, delay: timedelta, error: str, max_attempts: int) -> None:
        with session_scope(self.engine, urgent=True) as s:
            status = outbox.mark_retry(s, row.id, now=now, delay=delay, error=error,
                                       max_attempts=max_attempts, worker=self.worker)
        if status == "failed":
            log.warning("outbox %s failed after retries: %s", row.key, error)

    # ------------------------------------------------------------ background loop
    def wake(self) -> None:
        self._wake.set()

    def start(self, *, interval: float = 2.0) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.drain()
                except Exception as e:  # noqa: BLE001 - the next pass tries again
                    if unavailable(e):  # one line per pass while the database is away, not a traceback
                        log.warning("outbox sender: the database is unavailable (%s)", type(e).__name__)
                    else:
                        log.exception("outbox sender pass failed")
                self._wake.wait(interval)
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name="outbox-sender", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=5)
