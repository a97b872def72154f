"""Sending the core's answer on Slack, handing it to the outbox when Slack fails, and the error boundary.

The answer follows a unit of work that is already committed (a follow-up logged, a ticket taken), so a failed
send must not lose it or make the user try again: it becomes an outbox row and the sender delivers it like any
notification (retries, backoff, Retry-After). A public answer goes to its channel; a private one (ephemeral,
through the response_url) to the user's DM, never into the channel.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_bolt import BoltResponse

from bot.delivery import DeliveryError, Permanent, RetryAfter, Transient
from bot.outbox import queue_reply
from bot.slack.transport import delivery_error, retry_after
from handlers.context import Inbound
from handlers.router import Core, failure_reply
from handlers.views import Reply

if TYPE_CHECKING:
    from bot.slack.flows import Flows

log = logging.getLogger("crm.slack")


def webhook_error(resp: object) -> DeliveryError | None:
    """A response_url answer (`respond()` returns it, it does not raise) as a delivery error, or None if sent."""
    status = getattr(resp, "status_code", None)
    if status is None or status < 400:
        return None
    if status == 429:
        wait = retry_after(getattr(resp, "headers", None), missing=1.0)
        return RetryAfter(1.0 if wait is None else wait)
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


def on_failure(flows: Flows, error: Exception, body: dict, respond) -> BoltResponse | None:  # noqa: ANN001
    """The error boundary (`app.error`): answer a request whose listener failed with the core's failure reply
    ("busy, try again" or "something went wrong (ref …)") on the request's own surface: in the modal for a
    submission, ephemeral for a command or a button, in its channel for a message."""
    log.error("slack listener failed (%s): %s", body.get("type", "?"), type(error).__name__)
    lang = flows.core.settings.default_lang  # who is asking may be unknowable (the database is down)
    reply = failure_reply(lang, error)
    if body.get("type") == "view_submission":
        user = (body.get("user") or {}).get("id") or ""
        view = flows.reply_modal(reply, f"u:{user}", lang, "")
        return BoltResponse(status=200, body=json.dumps({"response_action": "update", "view": view}),
                            headers={"content-type": "application/json;charset=utf-8"})
    try:
        _tell(flows, reply, lang, body, respond)
    except Exception as e:  # noqa: BLE001 - Slack itself is unreachable too: the log has both
        log.warning("could not tell the user about the failure: %s", type(e).__name__)
    return None


def _tell(flows: Flows, reply: Reply, lang: str, body: dict, respond) -> None:  # noqa: ANN001
    """Show the failure where the user is looking: the modal a button was pressed in, the App Home, the
    invoking message's response_url, or the channel of a message."""
    client = flows.bot.client
    user = (body.get("user") or {}).get("id") or body.get("user_id") or ""
    event, view = body.get("event") or {}, body.get("view") or {}
    if body.get("type") == "block_actions" and view.get("type") == "modal" and view.get("id"):
        client.views_update(view_id=view["id"], view=flows.reply_modal(reply, f"u:{user}", lang, ""))
    elif body.get("response_url"):
        respond(response_type="ephemeral", replace_original=False, **flows.message(reply, f"u:{user}", lang))
    elif event.get("type") == "app_home_opened" and event.get("user"):
        client.views_publish(user_id=event["user"], view=flows.home_view([reply], event["user"], lang))
    elif event.get("type") in ("message", "app_mention") and event.get("channel") and not event.get("bot_id"):
        client.chat_postMessage(channel=event["channel"], **flows.message(reply, "", lang))
