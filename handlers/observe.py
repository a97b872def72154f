"""What the core tells observers after each unit of work: the verb, the outcome, how long it took.

The core knows nothing of metrics or log formats: `bot/` subscribes (`core.observers.append(fn)`) and turns a
`UnitDone` into a Prometheus sample or a log line. An observer never sees message text, only the verb.

Outcomes: `ok`, `user_error` (a translated error the user can fix), `error` (unexpected, logged with a
reference), `busy` (the database was unavailable), `repeat` (a redelivery answered once already).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

log = logging.getLogger("crm.observe")

# The id of the request being handled, set by an adapter that has one (the HTTP server); else one is made.
request_id: ContextVar[str | None] = ContextVar("crm_request_id", default=None)

OUTCOMES = ("ok", "user_error", "error", "busy", "repeat")


def new_request_id() -> str:
    return secrets.token_hex(6)


@dataclass(frozen=True)
class UnitDone:
    platform: str
    verb: str  # a known command's canonical verb; `dialog`, `button`, `form`, `text` or `unknown` otherwise
    outcome: str
    duration: float  # seconds
    staff_id: int | None
    request_id: str
    dialog: str | None = None  # the dialog the unit advanced, started or submitted, if any


Observer = Callable[[UnitDone], None]


def notify(observers: list[Observer], event: UnitDone) -> None:
    for fn in list(observers):
        try:
            fn(event)
        except Exception:  # noqa: BLE001 - a metric or a log line must never break the reply
            log.exception("observer %s failed", getattr(fn, "__name__", fn))
