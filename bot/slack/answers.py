"""Sending the core's answer on Slack, and handing it to the outbox when Slack fails.

The answer follows a unit of work that is already committed (a follow-up logged, a ticket taken), so a failed
send must not lose it or make the user try again: it becomes an outbox row and the sender delivers it like any
notification (retries, backoff, Retry-After). A public answer goes to its channel; a private one (ephemeral,
through the response_url) to the user's DM, never into the channel.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from bot.delivery import DeliveryError, Permanent, RetryAfter, Transient
from bot.outbox import queue_reply
from bot.slack.transport import delivery_error
from handlers.context import Inbound
from handlers.router import Core
from handlers.views import Reply

log = logging.getLogger("crm.slack")


def webhook_error(resp: object) -> DeliveryError | None:
    """A response_url answer (`respond()` returns it, it does not raise) as a delivery error, or None if sent."""
    status = getattr(resp, "status_code", None)
    if status is None or status < 400:
        return None
    if status == 429:
        headers = {k.lower(): v for k, v in (getattr(resp, "headers", None) or {}).items()}
        raw = headers.get("retry-after", "1")
        raw = raw[0] if isinstance(raw, list) else raw
        return RetryAfter(float(raw) if str(raw).replace(".", "", 1).isdigit() else 1.0)
    body = str(getattr(resp, "body", ""))[:100]
    return (Transient if status >= 500 else Permanent)(f"slack response_url: HTTP {status} {body}".strip())


def send(core: Core, post: Callable[[], object], reply: Reply, inbound: Inbound, *, public: bool,
         channel: str | None = None) -> bool:
    """Run `post` (a respond(), chat.postMessage or chat.update call). When Slack fails, queue `reply` for the
    outbox: to `channel` (default the inbound's) when `public`, else to the user's DM. True when sent now."""
    try:
        err = webhook_error(post())
    except Exception as e:  # noqa: BLE001 - only Slack's failures are handed on; anything else is raised
        err = delivery_error(e)
        if not isinstance(err, DeliveryError):
            raise
    if err is None:
        return True
    wait = err.seconds if isinstance(err, RetryAfter) else 0.0
    where = channel or inbound.chat_ref
    chat, scope = (where, f"c:{where}") if public else (inbound.user_ref, f"u:{inbound.user_ref}")
    key = f"reply:slack:{inbound.update_key or secrets.token_hex(8)}"
    log.warning("answer to %s failed (%s): handed to the outbox", chat, err)
    try:
        queue_reply(core.engine, key=key, platform="slack", chat_ref=chat, scope=scope, reply=reply,
                    now=core.clock(), wait=wait)
    except Exception:  # noqa: BLE001 - the database is away too: this answer is lost, the log says which
        log.exception("could not hand the answer to %s to the outbox (%s)", chat, key)
        return False
    core.outbox_written()
    return False
