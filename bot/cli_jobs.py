"""`crm-bot jobs list|run` and `crm-bot outbox list|retry|deliver`.

`jobs run NAME` runs one job as of `--now` (default: now), writes its outbox rows and then delivers them
itself through the transports configured here (`--no-deliver` leaves them to a running bot). Transports are
built lazily: Slack's and Telegram's only when their token is set; messages to console users are printed. Other adapters can add a factory to `transport_factories`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import App
    from bot.config import Config
    from bot.delivery import Transport
    from handlers.views import Reply

# `jobs run`'s choices, without importing the scheduler (a test checks they are scheduler.registry.JOBS)
JOB_NAMES = ("backup", "cadence", "complaint_review", "first_contact", "followup_digest", "housekeeping",
             "pool_return", "pool_warning", "rating_reminder", "sla_watch", "team_alert", "weekly_summary")

log = logging.getLogger("crm.cli")


class PrintTransport:
    """Console users' notifications when run from the command line: printed to stdout."""

    platform = "console"

    def __init__(self) -> None:
        self.n = 0

    def send(self, chat_ref: str, reply: Reply, *, scope: str) -> str:
        from bot.console.render import render  # lazy: keeps --help light

        self.n += 1
        print(f"→ {chat_ref}\n{render(reply, 'en').text}\n", flush=True)
        return f"cli{self.n}"

    def edit(self, chat_ref: str, message_ref: str, reply: Reply, *, scope: str) -> None:
        from bot.console.render import render  # lazy: keeps --help light

        print(f"→ {chat_ref} (edit {message_ref})\n{render(reply, 'en').text}\n", flush=True)


def _slack(cfg: Config) -> Transport | None:
    if not cfg.slack_bot_token:
        return None
    from bot.slack import app  # lazy: Slack's client loads only when there is something to send there

    return app.transport_from_config(cfg)


def _telegram(cfg: Config) -> Transport | None:
    if not cfg.telegram_bot_token:
        return None
    from bot.telegram import app  # lazy: Telegram's client loads only when there is something to send

    return app.transport_from_config(cfg)


transport_factories: dict[str, Callable[[Config], Transport | None]] = {
    "slack": _slack,
    "telegram": _telegram,
    "console": lambda cfg: PrintTransport(),
}


def build_transports(cfg: Config) -> dict[str, Transport]:
    out = {}
    for platform, factory in transport_factories.items():
        try:
            t = factory(cfg)
        except Exception as e:  # noqa: BLE001 - an unreachable platform must not stop the others
            log.warning("cannot deliver to %s from here (%s): its messages wait for the running bot", platform, e)
            print(f"crm-bot: {platform}: cannot connect ({type(e).__name__}); its messages stay queued",
                  file=sys.stderr)
            continue
        if t is not None:
            out[platform] = t
    return out


def register(sub: argparse._SubParsersAction) -> None:
    j = sub.add_parser("jobs", help="scheduled jobs: list them, run one by hand")
    js = j.add_subparsers(dest="jobs_cmd", metavar="ACTION")
    js.required = True
    ls = js.add_parser("list", help="the jobs, their schedule and last run")
    ls.set_defaults(func=cmd_jobs_list)
    run = js.add_parser("run", help="run a job now (or as of --now) and deliver what it wrote")
    run.add_argument("name", choices=JOB_NAMES, metavar="NAME")
    run.add_argument("--now", metavar="ISO-8601",
                     help="run as of this time, e.g. 2026-11-23T09:00+08:00 (no offset: CRM_DEFAULT_TZ)")
    run.add_argument("--no-deliver", action="store_true", help="only write the outbox rows")
    run.set_defaults(func=cmd_jobs_run)

    o = sub.add_parser("outbox", help="outbound messages: list, retry failed ones, deliver")
    os_ = o.add_subparsers(dest="outbox_cmd", metavar="ACTION")
    os_.required = True
    ol = os_.add_parser("list", help="the latest messages and their status")
    ol.add_argument("--failed", action="store_true", help="only the failed ones")
    ol.add_argument("--status", choices=("pending", "sending", "sent", "failed"))
    ol.add_argument("--limit", type=int, default=50)
    ol.set_defaults(func=cmd_outbox_list)
    rt = os_.add_parser("retry", help="queue failed messages again")
    rt.add_argument("ids", nargs="*", type=int, metavar="ID")
    rt.add_argument("--all-failed", action="store_true")
    rt.add_argument("--deliver", action="store_true", help="and deliver them now from here")
    rt.set_defaults(func=cmd_outbox_retry)
    dl = os_.add_parser("deliver", help="deliver what is due now through the transports configured here")
    dl.set_defaults(func=cmd_outbox_deliver)


def parse_now(text: str | None, default_tz: str) -> datetime:
    from zoneinfo import ZoneInfo

    from storage.db import utcnow  # lazy: keeps --help light

    if not text:
        return utcnow()
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"crm-bot: --now: not an ISO-8601 time: {text!r} (e.g. 2026-11-23T09:00+08:00)") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=ZoneInfo(default_tz))


def cmd_jobs_list(args: argparse.Namespace) -> int:
    from bot import app as app_mod  # lazy: keeps --help light
    from scheduler import registry, runner

    a = app_mod.build()
    last = runner.last_runs(a.engine)
    for job in registry.JOBS.values():
        when = str(job.trigger(a.settings)) if job.trigger else "by hand only"
        r = last.get(job.name)
        ran = (f"last run {r.started_at:%Y-%m-%d %H:%M:%S}Z, {r.items} item(s)" + (f", error: {r.error}" if r.error
               else "")) if r else "never run"
        print(f"{job.name:<17} {when}\n    {job.description}\n    {ran}")
    return 0


def _deliver(a: App, *, offset: timedelta = timedelta(0)) -> tuple[int, int]:
    """Deliver what is due through the transports configured here: (sent, still waiting)."""
    # lazy: keeps --help light
    from bot.outbox import Sender
    from storage import outbox
    from storage.db import session_scope, utcnow

    transports = build_transports(a.config)
    sender = Sender(a.engine, transports, clock=lambda: utcnow() + offset)
    sent = sender.drain()
    with session_scope(a.engine, write=False) as s:
        c = outbox.counts(s)
    return sent, c.get("pending", 0) + c.get("sending", 0)


def cmd_jobs_run(args: argparse.Namespace) -> int:
    from bot import app as app_mod  # lazy: keeps --help light
    from scheduler import runner
    from storage.db import utcnow

    a = app_mod.build()
    now = parse_now(args.now, a.settings.default_tz)
    try:
        n = runner.run_job(a.engine, args.name, now=now, settings=a.settings, channels=a.core.channels)
    except Exception as e:  # noqa: BLE001 - one line for the operator; the traceback is in the log
        log.exception("job %s failed", args.name)
        print(f"crm-bot: job {args.name} failed: {type(e).__name__}", file=sys.stderr)
        return 1
    print(f"{args.name}: {n} item(s) as of {now.isoformat()}", flush=True)
    if args.no_deliver:
        return 0
    sent, waiting = _deliver(a, offset=max(now - utcnow(), timedelta(0)))
    print(f"delivered {sent} message(s); {waiting} waiting", flush=True)
    return 0


def cmd_outbox_list(args: argparse.Namespace) -> int:
    from bot import app as app_mod  # lazy: keeps --help light
    from storage import outbox
    from storage.db import session_scope

    a = app_mod.build()
    status = "failed" if args.failed else args.status
    with session_scope(a.engine, write=False) as s:  # beside a running bot: a read never waits
        rows = outbox.list_rows(s, status=status, limit=args.limit)
        counts = outbox.counts(s)
        lines = [f"{r.id:>6} {r.status:<8} {r.attempts:>2}x {r.platform:<8} {r.chat_ref:<14} {r.key}"
                 + (f"\n       {r.last_error}" if r.last_error and r.status != "sent" else "") for r in rows]
    print("\n".join(lines) if lines else "no messages")
    print("totals: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "skipped"))
    return 0


def cmd_outbox_retry(args: argparse.Namespace) -> int:
    if not args.ids and not args.all_failed:
        print("crm-bot: give message IDs or --all-failed", file=sys.stderr)
        return 2
    from bot import app as app_mod  # lazy: keeps --help light
    from storage import outbox
    from storage.db import session_scope, utcnow

    a = app_mod.build()
    with session_scope(a.engine) as s:
        n = outbox.retry(s, now=utcnow(), row_ids=args.ids, all_failed=args.all_failed)
    print(f"queued {n} failed message(s) again")
    if args.deliver:
        return cmd_outbox_deliver(args)
    return 0


def cmd_outbox_deliver(args: argparse.Namespace) -> int:
    from bot import app as app_mod  # lazy: keeps --help light

    sent, waiting = _deliver(app_mod.build())
    print(f"delivered {sent} message(s); {waiting} waiting")
    return 0
