"""The contract between the outbox sender and the platform adapters.

A `Transport` delivers one rendered `Reply` to one chat on its platform, or edits a message it sent before.
It raises `RetryAfter` when the platform says to wait (HTTP 429), `Transient` for 5xx and network failures
(retried with backoff) and `Permanent` for anything retrying cannot fix (bad chat, bot blocked). The outbox
sender (bot/outbox.py) owns retries and bookkeeping; transports never write to the database.
"""

from __future__ import annotations

from typing import Protocol

from handlers.views import Reply


class DeliveryError(Exception):
    pass


class RetryAfter(DeliveryError):
    def __init__(self, seconds: float, detail: str = "") -> None:
        super().__init__(detail or f"rate limited, retry after {seconds}s")
        self.seconds = seconds


class Transient(DeliveryError):
    pass


class Permanent(DeliveryError):
    pass


class Transport(Protocol):
    platform: str

    def send(self, chat_ref: str, reply: Reply, *, scope: str) -> str:
        """Post `reply` to `chat_ref`; return the platform's id of the message (for later edits)."""
        ...

    def edit(self, chat_ref: str, message_ref: str, reply: Reply, *, scope: str) -> None:
        """Replace the message `message_ref` in `chat_ref` by `reply`."""
        ...
