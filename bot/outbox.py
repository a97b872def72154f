"""The outbox sender: claims due rows and delivers them through the platform transports.

Retries: `RetryAfter` (HTTP 429) waits what the platform said and gives the rest of that platform's batch back
untried; `Transient` (5xx, network) backs off exponentially (2, 4, 8 … s, capped at 5 min) and fails the row
after `storage.outbox.MAX_ATTEMPTS`; `Permanent` fails the row at once. Failed rows stay visible
(`crm-bot outbox list --failed`) and can be queued again (`crm-bot outbox retry`).

Each row is claimed (committed as `sending`) before it is handed to the platform and marked `sent` right after,
so a row goes out once even with several senders. If the process dies between the two, the claim goes stale
and another sender delivers that one message again after `claim_timeout`: at most the message in flight repeats.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from bot.delivery import Permanent, RetryAfter, Transient, Transport
from handlers.views import from_json
from storage import outbox
from storage.db import session_scope, utcnow
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
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ one pass
    def drain_once(self, limit: int | None = None) -> int:
        """Deliver what is due now; returns how many rows were sent."""
        now = self.clock()
        with session_scope(self.engine) as s:
            rows = outbox.claim(s, worker=self.worker, now=now, limit=limit or self.batch,
                                platforms=tuple(self.transports), chats=self.chats,
                                claim_timeout=self.claim_timeout)
            claimed = [_Row(r.id, r.key, r.platform, r.chat_ref, r.scope, r.payload, r.edit_key) for r in rows]
        sent = 0
        paused: dict[str, datetime] = {}  # platform → when it may be called again (after a 429)
        for row in claimed:
            if row.platform in paused:
                with session_scope(self.engine) as s:
                    outbox.release(s, [row.id], next_at=paused[row.platform], worker=self.worker)
                continue
            ok, wait = self._deliver(row)
            sent += ok
            if wait is not None:
                paused[row.platform] = self.clock() + wait
        return sent

    def drain(self, *, max_rounds: int = 100) -> int:
        """Deliver until nothing is due (or `max_rounds` batches). Returns how many rows were sent."""
        total = 0
        for _ in range(max_rounds):
            n = self.drain_once()
            total += n
            if n == 0:
                break
        return total

    def _edit_target(self, edit_key: str) -> str:
        with session_scope(self.engine) as s:
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
            with session_scope(self.engine) as s:
                outbox.mark_failed(s, row.id, error=str(e), worker=self.worker)
            return 0, None
        except Exception as e:  # noqa: BLE001 - a bug in a renderer must not stop the queue
            log.exception("outbox %s: unexpected error", row.key)
            self._retry(row, now, self._backoff(row.id), f"{type(e).__name__}: {e}", outbox.MAX_ATTEMPTS)
            return 0, None
        with session_scope(self.engine) as s:
            if not outbox.mark_sent(s, row.id, now=self.clock(), message_ref=ref, worker=self.worker):
                log.warning("outbox %s: delivered, but the claim had passed to another sender", row.key)
        return 1, None

    def _backoff(self, row_id: int) -> timedelta:
        with session_scope(self.engine) as s:
            row = s.get(Outbox, row_id)
            attempts = row.attempts if row else 1
        return timedelta(seconds=min(2 ** attempts, 300))

    def _retry(self, row: _Row, now: datetime, delay: timedelta, error: str, max_attempts: int) -> None:
        with session_scope(self.engine) as s:
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
                except Exception:  # noqa: BLE001 - e.g. the database is briefly unreachable
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
