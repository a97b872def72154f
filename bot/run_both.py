"""`crm-bot run all` and `crm-bot run slack telegram`: both adapters in one process.

One core, one scheduler and ONE outbox sender holding both transports: each outbox row names its platform
(the recipient's), so a Telegram customer's complaint is posted to the Slack service channel and DMed to the
agent on Slack, and the rating question goes back to Telegram. One process means the embedded SQLite serves a
team on both platforms (staff in Slack, customers on Telegram).

Slack runs in Socket Mode or, with `--http`, on the one HTTP server (bot/web/server.py: Slack's events,
/healthz, /metrics and, with `--webhook-url`, Telegram's webhook: one port, one reverse-proxy rule), in a
background thread; Telegram long-polls (on PostgreSQL only while this instance leads the scheduler: one
poller per token) or takes its webhook on the main thread (it owns SIGINT/SIGTERM);
stopping it stops everything. Without `--http`, CRM_HTTP_PORT serves /healthz and /metrics. `run all` starts what is configured and says in
one line which platform it skipped; `run slack telegram` needs both.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.errors import StartupError

if TYPE_CHECKING:
    from bot.config import Config
    from bot.outbox import Sender
    from handlers.router import Core

PLATFORMS = ("slack", "telegram")


def register(sub: argparse._SubParsersAction) -> None:
    runs = next(a for a in sub.choices["run"]._actions if isinstance(a, argparse._SubParsersAction))
    p = runs.add_parser("all", help="every configured platform in one process (Slack and Telegram)")
    add_slack_options(p)
    p.set_defaults(func=cmd_run_all, both=False)


def add_slack_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--http", action="store_true",
                   help="serve POST /slack/events, GET /healthz and GET /metrics on one HTTP server")
    p.add_argument("--host", default="0.0.0.0", help="HTTP mode: address to listen on (default 0.0.0.0)")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")),
                   help="HTTP mode: port (default $PORT or 3000)")
    add_webhook_option(p)


def add_webhook_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--webhook-url", metavar="URL",
                   help="with --http: Telegram posts its updates to this public https URL, served on the same "
                        "port (its path, e.g. https://crm.example.com/telegram → /telegram); default: polling")


def missing(cfg: Config, platform: str, *, http: bool) -> str | None:
    """Why `platform` cannot start with this configuration (one line), or None."""
    if platform == "telegram":
        return None if cfg.telegram_bot_token else "TELEGRAM_BOT_TOKEN is not set (get one from @BotFather)"
    if not cfg.slack_bot_token:
        return "SLACK_BOT_TOKEN is not set (the xoxb-… bot token)"
    if http and not cfg.slack_signing_secret:
        return "SLACK_SIGNING_SECRET is not set (needed to verify requests)"
    if not http and not cfg.slack_app_token:
        return "SLACK_APP_TOKEN is not set (the xapp-… token Socket Mode needs); or run with --http"
    return None


def choose(cfg: Config, *, http: bool, both: bool) -> list[str]:
    """The platforms to start; each skipped one is said in one line on stderr. Raises `StartupError`."""
    why = {p: missing(cfg, p, http=http) for p in PLATFORMS}
    if both and any(why.values()):
        raise StartupError("configuration error: " + "; ".join(w for w in why.values() if w))
    chosen = [p for p in PLATFORMS if not why[p]]
    if not chosen:
        raise StartupError("configuration error: no platform is configured: " + "; ".join(why.values()))
    for p in PLATFORMS:
        if why[p]:
            print(f"crm-bot: {p} skipped: {why[p]}", file=sys.stderr, flush=True)
    return chosen


def shared_sender(core: Core) -> Sender:
    """The one outbox sender of the process; each adapter adds its transport (`sender.transports[platform]`)
    before `sender.start()`. Woken whenever the core wrote outbox rows."""
    from bot.outbox import Sender  # lazy: keeps --help light

    sender = Sender(core.engine, {}, clock=core.clock)
    core.on_outbox.append(sender.wake)
    return sender


def web_server(a, args: argparse.Namespace, slack_bot, tg, hook):  # noqa: ANN001, ANN201 - App, SlackBot, TelegramBot, Webhook
    """The one HTTP server of `--http` (Slack's route, Telegram's webhook with `--webhook-url`), not started."""
    if not args.http:
        return None
    from bot.slack.server import add_slack  # lazy: keeps --help light
    from bot.telegram.webhook import add_telegram
    from bot.web.build import build_server

    server = build_server(a, host=args.host, port=args.port)
    if slack_bot is not None:
        add_slack(server, slack_bot)
    if tg is not None and hook is not None:
        add_telegram(server, tg, hook)
    return server


def announce(server, *, slack: bool) -> None:  # noqa: ANN001 - WebServer
    if slack:
        print(f"crm-bot: Slack app listening on {server.url}/slack/events", flush=True)
    else:
        print(f"crm-bot: listening on {server.url} (/healthz, /metrics)", flush=True)


def start_socket_mode(bot, app_token: str) -> Callable[[], None]:  # noqa: ANN001 - SlackBot
    """Slack in Socket Mode in the background; returns its stop."""
    from bot.slack.run import socket_handler

    handler = socket_handler(bot, app_token)
    handler.connect()
    print("crm-bot: Slack app connected in Socket Mode", flush=True)
    return handler.close


def cmd_run_all(args: argparse.Namespace) -> int:
    from bot import app as app_mod  # lazy: keeps --help light
    from bot.services import start_background
    from bot.slack.run import build_slack, serve_socket
    from bot.telegram import cli as telegram_cli
    from bot.telegram.app import TelegramBot, Webhook
    from bot.web.build import monitoring_server, start_in_thread
    from storage.db import is_sqlite

    url = getattr(args, "webhook_url", None)
    if url and not args.http:
        raise StartupError("--webhook-url needs --http (the webhook is served by the HTTP server)")
    a = app_mod.build(warm=True)
    cfg = a.config
    chosen = choose(cfg, http=args.http, both=args.both)
    sender = shared_sender(a.core)
    slack_bot = build_slack(a, sender)[0] if "slack" in chosen else None
    tg = TelegramBot(a.core, token=cfg.telegram_bot_token, api_url=cfg.telegram_api_url,
                     service_chat=cfg.telegram_service_chat, sender=sender,
                     poll_when_leading=not is_sqlite(a.engine)) if "telegram" in chosen else None
    hook = Webhook(url=url, secret=cfg.telegram_webhook_secret) if url and tg is not None else None
    server = web_server(a, args, slack_bot, tg, hook)
    ready, background = threading.Event(), []

    def start_jobs() -> None:  # once Telegram is connected (its transport needs the bot's loop)
        ready.wait()
        sender.start()
        leads = [tg.lead] if tg is not None else []  # Telegram long polling only on the scheduler leader
        steps_down = [tg.step_down] if tg is not None else []
        background.append(start_background(a, {}, sender=sender, on_elected=leads, on_deposed=steps_down))

    stops: list[Callable[[], None]] = []
    try:
        if server is None:
            monitor = monitoring_server(a)
            if monitor is not None:
                stops.append(monitor.stop)
        if tg is None:
            ready.set()
            start_jobs()
            if server is not None:
                server.serve_forever(on_started=lambda: announce(server, slack=True))
            else:
                serve_socket(slack_bot, cfg.slack_app_token)
            return 0
        if server is not None:
            stops.append(start_in_thread(server).stop)
            announce(server, slack=slack_bot is not None)
        elif slack_bot is not None:
            stops.append(start_socket_mode(slack_bot, cfg.slack_app_token))
        threading.Thread(target=start_jobs, name="start-scheduler", daemon=True).start()
        telegram_cli.serve(tg, cfg, ready=ready, webhook=hook, server=server)
    finally:
        for stop in [*stops, *(bg.stop for bg in background), sender.stop]:
            stop()
    return 0
