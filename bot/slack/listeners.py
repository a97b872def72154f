"""Bolt listeners, one per surface: acknowledge first, then hand the payload to `Flows`.

The ack is Slack's HTTP answer and must come within 3 seconds; everything after it runs on Bolt's worker
threads. The one exception is a modal submission, whose ack carries the field errors or the next view.

Work after an ack runs inside `_bounded`, which answers a failure itself (as `app.error` would): when a
listener raises after acking, Bolt 1.x's thread runner briefly sets the request's response to a 500 before
noticing the ack, and the HTTP thread, polling every 10 ms, can send that 500 to Slack (seen under load with
the database down: the user is told "busy", but Slack shows its own failure too).
"""

from __future__ import annotations

import logging
import re

from slack_bolt import App, BoltResponse

from bot.slack import answers
from bot.slack.flows import Flows
from bot.slack.render import MORE_ACTION
from bot.slack.surfaces import FORM_CALLBACK, VIEW_CALLBACK

log = logging.getLogger("crm.slack")

SHORTCUT_CALLBACK = "log_as_followup"


def register(app: App, flows: Flows) -> None:
    def _bounded(body: dict, respond, work) -> None:  # noqa: ANN001
        try:
            work()
        except Exception as e:  # noqa: BLE001 - the error boundary (module doc): logged and answered there
            answers.on_failure(flows, e, body, respond)

    @app.command(re.compile(r"^/"))
    def on_command(ack, body, respond, request) -> None:  # noqa: ANN001
        ack()
        _bounded(body, respond, lambda: flows.on_command(body, respond, request.headers))

    @app.action(MORE_ACTION)
    def on_more(ack, body, action, respond) -> None:  # noqa: ANN001
        ack()
        _bounded(body, respond, lambda: flows.on_more(body, action))

    @app.action(re.compile(r"^crm_(btn|sel|nav)_"))
    def on_action(ack, body, action, respond, request) -> None:  # noqa: ANN001
        ack()
        _bounded(body, respond, lambda: flows.on_action(body, action, respond, request.headers))

    @app.view(FORM_CALLBACK)
    def on_submit(ack, body) -> None:  # noqa: ANN001
        ack(**flows.on_submit(body))

    @app.view(VIEW_CALLBACK)
    def on_view(ack) -> None:  # noqa: ANN001 - read-only modals have no submit button; close anyway
        ack()

    @app.view_closed(re.compile(r"^crm_"))
    def on_closed(ack) -> None:  # noqa: ANN001 - a form closed: nothing was saved, nothing to clean up
        ack()

    @app.shortcut(SHORTCUT_CALLBACK)
    def on_shortcut(ack, body, request, respond) -> None:  # noqa: ANN001
        ack()
        _bounded(body, respond, lambda: flows.on_shortcut(body, request.headers))

    @app.event("app_home_opened")
    def on_home(event) -> None:  # noqa: ANN001
        flows.on_home(event)

    @app.event("message")
    def on_message(event, body) -> None:  # noqa: ANN001
        flows.on_message(event, body.get("event_id"))

    @app.event("app_mention")
    def on_mention(event, body) -> None:  # noqa: ANN001
        flows.on_mention(event, body.get("event_id"))

    @app.error
    def on_error(error, body, respond) -> BoltResponse | None:  # noqa: ANN001
        """Failures outside the core's own catch-all (the database gone while looking up who asks, a transport
        error): the user gets the core's short answer, "busy, try again" or "something went wrong (ref …)"."""
        return answers.on_failure(flows, error, body or {}, respond)
