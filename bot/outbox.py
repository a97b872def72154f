"""The outbox sender: claims due rows and delivers them through the platform transports.

Retries: `RetryAfter` waits what the platform said; `Transient` backs off exponentially (2, 4, 8 … s, capped);
`Permanent` marks the row failed at once. Failed rows stay visible (`crm-bot outbox list --failed`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from bot.delivery import Permanent, RetryAfter, Transient, Transport
from handlers.views import from_json
from storage import outbox
from storage.db import session_scope, utcnow
from storage.models import Outbox

log = logging.getLogger("crm.outbox")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 10000}"


class Sender:
    def __init__(self, engine: Engine, transports: dict[str, Transport], *,
                 clock: Callable[[], datetime] = utcnow, worker: str | None = None,
                 chats: tuple[str, ...] | None = None) -> None:
        self.engine = engine
        self.chats = chats
        self.transports = transports
        self.clock = clock
        self.worker = worker or worker_name()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ one pass
    def drain_once(self, limit: int = 50) -> int:
        """Deliver what is due now; returns how many rows were sent."""
        now = self.clock()
        with session_scope(self.engine) as s:
            rows = outbox.claim(s, worker=self.worker, now=now, limit=limit,
                                platforms=tuple(self.transports), chats=self.chats)
            claimed = [(r.id, r.key, r.platform, r.chat_ref, r.scope, r.payload, r.edit_key) for r in rows]
        sent = 0
        for row_id, key, platform, chat_ref, scope, payload, edit_key in claimed:
            sent += self._deliver(row_id, key, platform, chat_ref, scope, payload, edit_key)
        return sent

    def drain(self, *, max_rounds: int = 100) -> int:
        total = 0
        for _ in range(max_rounds):
            n = self.drain_once()
            total += n
            if n == 0:
                break
        return total

    def _deliver(self, row_id: int, key: str, platform: str, chat_ref: str, scope: str, payload: str,
                 edit_key: str | None) -> int:
        transport = self.transports[platform]
        now = self.clock()
        try:
            reply = from_json(payload)
            if edit_key:
                with session_scope(self.engine) as s:
                    orig = outbox.sent_ref(s, edit_key)
                    target = (orig.status, orig.message_ref) if orig else (None, None)
                if target[0] != "sent" or not target[1]:
                    if target[0] == "failed" or target[0] is None:
                        raise Permanent(f"the message to edit ({edit_key}) was never sent")
                    raise Transient(f"waiting for {edit_key} to be sent")
                transport.edit(chat_ref, target[1], reply, scope=scope)
                ref = target[1]
            else:
                ref = transport.send(chat_ref, reply, scope=scope)
        except RetryAfter as e:
            self._retry(row_id, now, timedelta(seconds=max(e.seconds, 0.5)), str(e))
            return 0
        except Transient as e:
            self._retry(row_id, now, self._backoff(row_id), str(e))
            return 0
        except Permanent as e:
            log.warning("outbox %s failed for good: %s", key, e)
            with session_scope(self.engine) as s:
                outbox.mark_failed(s, row_id, error=str(e))
            return 0
        except Exception as e:  # noqa: BLE001 - a bug in a renderer must not stop the queue
            log.exception("outbox %s: unexpected error", key)
            self._retry(row_id, now, self._backoff(row_id), f"{type(e).__name__}: {e}")
            return 0
        with session_scope(self.engine) as s:
            outbox.mark_sent(s, row_id, now=self.clock(), message_ref=ref)
        return 1

    def _backoff(self, row_id: int) -> timedelta:
        with session_scope(self.engine) as s:
            row = s.get(Outbox, row_id)
            attempts = row.attempts if row else 1
        return timedelta(seconds=min(2 ** attempts, 300))

    def _retry(self, row_id: int, now: datetime, delay: timedelta, error: str) -> None:
        with session_scope(self.engine) as s:
            outbox.mark_retry(s, row_id, now=now, delay=delay, error=error)

    # ------------------------------------------------------------ background loop
    def wake(self) -> None:
        self._wake.set()

    def start(self, *, interval: float = 2.0) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.drain()
                except Exception:  # noqa: BLE001
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
