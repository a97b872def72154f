"""Running the Slack app: build it, start the outbox sender, serve HTTP or Socket Mode."""

from __future__ import annotations

import logging

from bot.app import App as CrmApp
from bot.errors import StartupError
from bot.outbox import Sender
from bot.slack.app import SlackBot
from bot.slack.server import EVENTS_PATH, add_slack
from bot.web.build import build_server
from handlers.router import Core

log = logging.getLogger("crm.slack")


def start_sender(core: Core, bot: SlackBot, *, interval: float = 2.0) -> Sender:
    """The outbox sender for Slack rows, woken by the core whenever a unit of work wrote outbox rows."""
    sender = Sender(core.engine, {"slack": bot.transport}, clock=core.clock)
    core.on_outbox.append(sender.wake)
    sender.start(interval=interval)
    return sender


def build_slack(a: CrmApp, sender: Sender | None = None) -> tuple[SlackBot, Sender]:
    """The Slack app on `a.core`, with its own running sender, or adding its transport to a shared `sender`
    (started by its owner: both platforms in one process)."""
    cfg = a.config
    quiet = [logging.getLogger(n) for n in ("slack_sdk", "slack_bolt")]
    levels = [q.level for q in quiet]
    for q in quiet:  # a failed auth.test is reported in one line below, not as the SDK's log lines
        q.setLevel(logging.CRITICAL)
    try:
        bot = SlackBot(a.core, token=cfg.slack_bot_token, signing_secret=cfg.slack_signing_secret,
                       api_url=cfg.slack_api_url)
    except Exception as e:  # noqa: BLE001 - auth.test failed: one line, no traceback
        reason = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise StartupError(f"slack: cannot connect with SLACK_BOT_TOKEN ({reason})") from None
    finally:
        for q, level in zip(quiet, levels, strict=True):
            q.setLevel(level)
    a.transports["slack"] = bot.transport
    if sender is not None:
        sender.transports["slack"] = bot.transport
        return bot, sender
    return bot, start_sender(a.core, bot)


def serve_http(a: CrmApp, bot: SlackBot, host: str, port: int) -> None:
    """The one HTTP server on the main thread: Slack's events, /healthz and /metrics, until SIGINT/SIGTERM."""
    server = add_slack(build_server(a, host=host, port=port), bot)

    def started() -> None:
        log.info("Slack HTTP mode: POST %s%s, GET /healthz, GET /metrics", server.url, EVENTS_PATH)
        print(f"crm-bot: Slack app listening on {server.url}{EVENTS_PATH}", flush=True)

    try:
        server.serve_forever(on_started=started)
    except OSError as e:
        raise StartupError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None


def socket_handler(bot: SlackBot, app_token: str):  # noqa: ANN201 - slack_bolt's SocketModeHandler
    """Socket Mode (no public URL): apps.connections.open goes through the same Web API base URL."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    return SocketModeHandler(bot.app, app_token, web_client=bot.client)


def serve_socket(bot: SlackBot, app_token: str) -> None:
    print("crm-bot: Slack app connecting in Socket Mode", flush=True)
    socket_handler(bot, app_token).start()
