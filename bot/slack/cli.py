"""`crm-bot run slack [--http] [--host H] [--port P]`, `crm-bot slack manifest [--url https://…]` and
`crm-bot slack sync-staff`.

`run` is shared with other platforms (`crm-bot run telegram`): the `run` parser is created by whichever module
registers first, and each platform adds its own sub-subcommand.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bot.errors import StartupError
from bot.run_both import add_webhook_option

MANIFEST = Path(__file__).resolve().parent.parent / "slack_manifest.yml"
PLACEHOLDER = "https://HOST/slack/events"
EVENTS_PATH = "/slack/events"

log = logging.getLogger("crm.slack")


def run_subparsers(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    run = sub.choices.get("run")
    if run is None:
        run = sub.add_parser("run", help="run the bot on a chat platform")
    for a in run._actions:
        if isinstance(a, argparse._SubParsersAction):
            return a
    rs = run.add_subparsers(dest="platform", metavar="PLATFORM")
    rs.required = True
    return rs


def register(sub: argparse._SubParsersAction) -> None:
    p = run_subparsers(sub).add_parser("slack", help="the Slack app (Socket Mode, or HTTP with --http); "
                                       "`run slack telegram`: both in one process")
    p.add_argument("also", nargs="?", choices=("telegram",), help="also run the Telegram bot in this process")
    p.add_argument("--http", action="store_true", help="serve POST /slack/events, GET /healthz and GET /metrics")
    p.add_argument("--host", default="0.0.0.0", help="HTTP mode: address to listen on (default 0.0.0.0)")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")),
                   help="HTTP mode: port (default $PORT or 3000)")
    add_webhook_option(p)
    p.set_defaults(func=cmd_run)

    sl = sub.add_parser("slack", help="Slack app helpers")
    ss = sl.add_subparsers(dest="slack_cmd", metavar="ACTION")
    ss.required = True
    m = ss.add_parser("manifest", help="print the Slack app manifest (paste it at api.slack.com/apps)")
    m.add_argument("--url", help="public base URL of `crm-bot run slack --http` (omit for Socket Mode)")
    m.set_defaults(func=cmd_manifest)
    sy = ss.add_parser("sync-staff", help="link every staff member with an --email and no Slack id to the Slack "
                                          "user with that email (users.lookupByEmail)")
    sy.set_defaults(func=cmd_sync_staff)


def events_url(url: str) -> str:
    """The request URL for a public base URL: https only (Slack refuses anything else), `/slack/events`
    appended to the path (`https://h/crm?k=v` → `https://h/crm/slack/events?k=v`). Raises `StartupError`."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "https" or not parts.hostname or parts.fragment:
        raise StartupError(f"--url must be an https:// address without a #fragment, like "
                           f"https://crm.example.com (Slack only calls https URLs), not {url!r}")
    path = parts.path.rstrip("/")
    if not path.endswith(EVENTS_PATH):
        path += EVENTS_PATH
    return urlunsplit(("https", parts.netloc, path, parts.query, ""))


def manifest_text(url: str | None = None) -> str:
    """The manifest with the request URL filled in; without a URL, the Socket Mode variant (no URLs)."""
    text = MANIFEST.read_text(encoding="utf-8")
    if url:
        return text.replace(PLACEHOLDER, events_url(url))
    lines = [ln for ln in text.splitlines() if PLACEHOLDER not in ln]
    return "\n".join(lines).replace("socket_mode_enabled: false", "socket_mode_enabled: true") + "\n"


def cmd_manifest(args: argparse.Namespace) -> int:
    sys.stdout.write(manifest_text(args.url))  # a bad --url: StartupError, one line on stderr, exit 2
    return 0


def cmd_sync_staff(args: argparse.Namespace) -> int:
    from bot import app as app_mod  # lazy: keeps --help light
    from bot import cli_slack_staff as sync_staff

    a = app_mod.build()
    if not a.config.slack_bot_token:
        raise StartupError("configuration error: SLACK_BOT_TOKEN is not set (the xoxb-… bot token)")
    web = sync_staff.client(a.config.slack_bot_token, a.config.slack_api_url)
    counts = sync_staff.sync(a.engine, web)
    return 1 if counts["not_found"] or counts["taken"] else 0


def cmd_run(args: argparse.Namespace) -> int:
    if args.also:  # `crm-bot run slack telegram`: one process, one sender (bot/run_both.py)
        from bot.run_both import cmd_run_all

        return cmd_run_all(argparse.Namespace(**vars(args), both=True))
    if args.webhook_url:
        raise StartupError("--webhook-url is Telegram's: `crm-bot run slack telegram --http --webhook-url …`")
    from bot import app as app_mod
    from bot.slack.run import build_slack, serve_http, serve_socket

    a = app_mod.build(warm=True)
    cfg = a.config
    if not cfg.slack_bot_token:
        raise StartupError("configuration error: SLACK_BOT_TOKEN is not set (the xoxb-… bot token)")
    if args.http and not cfg.slack_signing_secret:
        raise StartupError("configuration error: SLACK_SIGNING_SECRET is not set (needed to verify requests)")
    if not args.http and not cfg.slack_app_token:
        raise StartupError("configuration error: SLACK_APP_TOKEN is not set (the xapp-… token Socket Mode "
                           "needs); or run with --http")
    from bot.services import start_background
    from bot.web.build import monitoring_server

    bot, sender = build_slack(a)
    # Socket Mode: /healthz and /metrics on CRM_HTTP_PORT, if set (HTTP mode serves them beside Slack's events)
    monitor = None if args.http else monitoring_server(a)
    # the scheduler (on the elected instance) runs beside the app; the app's own sender delivers its rows
    background = start_background(a, {}, sender=sender)
    try:
        if args.http:
            serve_http(a, bot, args.host, args.port)
        else:
            serve_socket(bot, cfg.slack_app_token)
    finally:
        background.stop()
        sender.stop()
        if monitor is not None:
            monitor.stop()
    return 0
