"""`crm-bot run telegram [--webhook --url URL [--port P] [--listen HOST]]`.

`run` is shared with other adapters (`crm-bot run slack`): the parser is created only if it does not exist.
"""

from __future__ import annotations

import argparse
from urllib.parse import urlparse

from bot.errors import StartupError


def _run_subparsers(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    run = sub.choices.get("run")
    if run is None:
        run = sub.add_parser("run", help="run a chat adapter (slack, telegram)")
        runs = run.add_subparsers(dest="platform", metavar="PLATFORM")
        runs.required = True
        return runs
    return next(a for a in run._actions if isinstance(a, argparse._SubParsersAction))


def register(sub: argparse._SubParsersAction) -> None:
    tg = _run_subparsers(sub).add_parser("telegram", help="run the Telegram bot (long polling by default)")
    tg.add_argument("--webhook", action="store_true", help="receive updates by webhook instead of polling")
    tg.add_argument("--url", help="public HTTPS URL Telegram posts updates to (webhook mode)")
    tg.add_argument("--port", type=int, default=8443,
                    help="local port of the HTTP server: the webhook, /healthz and /metrics (default 8443)")
    tg.add_argument("--listen", default="0.0.0.0", help="local address of the HTTP server")
    tg.set_defaults(func=cmd_run_telegram)


def serve(bot, cfg, *, webhook=None, ready=None, server=None) -> None:  # noqa: ANN001 - TelegramBot, Config, Webhook, Event, WebServer
    """Run the bot until SIGINT/SIGTERM; a refused token or an unreachable Bot API is one line (StartupError)."""
    from telegram.error import InvalidToken, TelegramError

    try:
        bot.run_forever(webhook=webhook, ready=ready, server=server)
    except InvalidToken:
        raise StartupError("configuration error: TELEGRAM_BOT_TOKEN was refused by the Bot API") from None
    except (TelegramError, OSError) as e:
        where = cfg.telegram_api_url or "https://api.telegram.org"
        raise StartupError(f"cannot start the Telegram bot ({where}): {type(e).__name__}: {e}"[:300]) from None


def cmd_run_telegram(args: argparse.Namespace) -> int:
    from bot import app as app_mod  # lazy: keeps --help light
    from bot.telegram.app import TelegramBot, Webhook

    if args.webhook and not args.url:
        raise StartupError("--webhook needs --url https://… (the public address Telegram posts to)")
    if args.url and not args.webhook:
        raise StartupError("--url is for webhook mode: add --webhook")
    a = app_mod.build(warm=True)
    cfg = a.config
    if not cfg.telegram_bot_token:
        raise StartupError("configuration error: TELEGRAM_BOT_TOKEN is not set (get one from @BotFather)")
    from storage.db import is_sqlite

    # several instances on PostgreSQL: only the scheduler leader long-polls (a second poller gets 409 Conflict)
    bot = TelegramBot(a.core, token=cfg.telegram_bot_token, api_url=cfg.telegram_api_url,
                      service_chat=cfg.telegram_service_chat, poll_when_leading=not is_sqlite(a.engine))
    hook = Webhook(url=args.url, port=args.port, listen=args.listen,
                   secret=cfg.telegram_webhook_secret) if args.webhook else None
    import threading

    from bot.services import start_background
    from bot.telegram.webhook import add_telegram
    from bot.web.build import build_server, monitoring_server, start_in_thread

    if hook is not None:  # the one HTTP server: the webhook's path, /healthz and /metrics
        server = build_server(a, host=hook.listen, port=hook.port)
        add_telegram(server, bot, hook)
        start_in_thread(server)
        print(f"crm-bot: Telegram webhook listening on {server.url}{urlparse(hook.url).path or '/'}", flush=True)
    else:  # polling: /healthz and /metrics on CRM_HTTP_PORT, if set
        server = monitoring_server(a)

    # the scheduler (on the elected instance) runs beside the bot once it is connected; the bot's own sender
    # delivers its rows
    ready, background = threading.Event(), []

    def start_jobs() -> None:
        ready.wait()
        background.append(start_background(a, {}, sender=bot.sender, on_elected=[bot.lead],
                                           on_deposed=[bot.step_down]))

    threading.Thread(target=start_jobs, name="start-scheduler", daemon=True).start()
    try:
        serve(bot, cfg, webhook=hook, ready=ready, server=server if hook is not None else None)
    finally:
        for bg in background:
            bg.stop()
        if server is not None:
            server.stop()
    return 0
