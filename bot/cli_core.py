"""Core subcommands: console, db upgrade, staff."""

from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot import cli_staff
from handlers import inputs
from handlers.errors import InvalidInput
from handlers.i18n import ENUMS, t


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("console", help="chat with the bot in the terminal")
    who = c.add_mutually_exclusive_group(required=True)
    who.add_argument("--as", dest="user", metavar="NAME", help="the staff member to act as")
    who.add_argument("--customer", metavar="CODE", help="chat as this customer's primary contact (open a ticket, "
                                                        "confirm, rate: what customers do on Telegram)")
    c.set_defaults(func=cmd_console)

    db = sub.add_parser("db", help="database schema")
    dbs = db.add_subparsers(dest="db_cmd", metavar="ACTION")
    dbs.required = True
    up = dbs.add_parser("upgrade", help="bring the database to the current schema")
    up.set_defaults(func=cmd_db_upgrade)

    st = sub.add_parser("staff", help="manage staff")
    sts = st.add_subparsers(dest="staff_cmd", metavar="ACTION")
    sts.required = True
    add = sts.add_parser("add", help="add a staff member")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=ENUMS["role"])
    add.add_argument("--team")
    add.add_argument("--manager", metavar="NAME")
    add.add_argument("--slack-id", metavar="U…")
    add.add_argument("--telegram-id", type=int, metavar="N")
    add.add_argument("--email", help="matched to the person's Slack account by email")
    add.add_argument("--tz", help="IANA time zone (default: CRM_DEFAULT_TZ)")
    add.add_argument("--lang", choices=("zh", "en"))
    add.add_argument("--notify", choices=("slack", "telegram"))
    add.set_defaults(func=cmd_staff_add)
    ls = sts.add_parser("list", help="list staff")
    ls.add_argument("--format", choices=("table", "json"), default="table")
    ls.set_defaults(func=cmd_staff_list)
    inv = sts.add_parser("invite", help="a one-time Telegram link that links whoever opens it to NAME "
                                        "(--all: one for every active staff member without a Telegram account)")
    who = inv.add_mutually_exclusive_group(required=True)
    who.add_argument("name", metavar="NAME", nargs="?")
    who.add_argument("--all", action="store_true", help="everyone active who has no Telegram id yet")
    inv.set_defaults(func=cmd_staff_invite)
    cli_staff.register(sts)


def cmd_console(args: argparse.Namespace) -> int:
    from bot import app as app_mod  # lazy: keeps --help light
    from bot.console import repl

    a = app_mod.build(log_file=os.environ.get("CRM_LOG_FILE", "./data/crm.log"), warm=True)
    if args.customer:
        return repl.run_customer(a.core, args.customer)
    return repl.run(a.core, args.user)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import DBAPIError

    from bot import app as app_mod  # lazy: keeps --help light
    from storage.migrate import MigrationError, upgrade

    a = app_mod.build(migrate=False)
    try:
        upgrade(a.engine, verbose=True)
    except DBAPIError as e:
        reason = str(getattr(e, "orig", e)).strip().splitlines()[0][:200]
        return _fail(f"database error: cannot upgrade {app_mod.safe_url(a.config.database_url)}: {reason}")
    except MigrationError as e:
        return _fail(f"database error: {e}")
    print(f"database is up to date: {app_mod.safe_url(a.config.database_url)}")
    return 0


def _fail(msg: str) -> int:
    print(f"crm-bot: {msg}", file=sys.stderr)
    return 2


def _check_staff_args(args: argparse.Namespace) -> str | None:
    """The first problem with `staff add`'s arguments, as one line, or None."""
    import re

    args.name = inputs.clean(args.name).strip()  # a pasted zero-width or U+202E would make it unfindable
    if not args.name or len(args.name) > 100:
        return "--name: give a name of 1 to 100 characters"
    if args.slack_id and not re.fullmatch(r"[UW][A-Z0-9]{2,30}", args.slack_id):
        return f"--slack-id: {args.slack_id!r} is not a Slack user id (like U012AB3CD)"
    if args.telegram_id is not None and not 0 < args.telegram_id < 2**63:  # the column is a BIGINT
        return "--telegram-id: a Telegram user id is a positive number"
    if args.notify == "slack" and not args.slack_id:
        return "--notify slack needs --slack-id"
    if args.notify == "telegram" and not args.telegram_id:
        return "--notify telegram needs --telegram-id"
    return None


def cmd_staff_add(args: argparse.Namespace) -> int:
    problem = _check_staff_args(args)
    if problem:
        return _fail(problem)
    # lazy: keeps --help light
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError

    from bot import app as app_mod
    from handlers.services import staff_edit
    from storage.db import session_scope
    from storage.models import Staff

    a = app_mod.build()
    tz = args.tz or a.settings.default_tz
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return _fail(f"--tz: unknown time zone {tz!r} (try Asia/Shanghai)")
    notify = args.notify or ("slack" if args.slack_id else "telegram" if args.telegram_id else "console")
    now = datetime.now(UTC)
    try:
        with session_scope(a.engine) as s:
            manager_id = None
            if args.manager:
                m = s.scalar(select(Staff).where(Staff.name == args.manager))
                if m is None:
                    return _fail(f"--manager: no staff member named {args.manager!r}")
                manager_id = m.id
            st = Staff(name=args.name.strip(), role=args.role, team=args.team, manager_id=manager_id, tz=tz,
                       lang=args.lang or a.settings.default_lang, notify=notify, slack_id=args.slack_id,
                       telegram_id=args.telegram_id, active=True, created_at=now)
            if args.email:
                try:
                    st.email = staff_edit.validate(s, st, {"email": args.email})["email"]
                except InvalidInput as e:
                    return _fail("--email: " + t("en", e.key, **e.params))
            s.add(st)
            s.flush()
            sid = st.id
    except IntegrityError:
        return _fail("a staff member with that name, Slack id or Telegram id exists already")
    print(f"added staff #{sid}: {args.name.strip()} ({args.role})")
    return 0


def staff_rows(session) -> list[dict]:  # noqa: ANN001
    # lazy: keeps --help light
    from sqlalchemy import select

    from storage.models import Staff

    names = {s.id: s.name for s in session.scalars(select(Staff))}
    return [dict(id=s.id, name=s.name, role=s.role, team=s.team, manager=names.get(s.manager_id),
                 slack_id=s.slack_id, telegram_id=s.telegram_id, email=s.email, tz=s.tz, lang=s.lang,
                 notify=s.notify, active=s.active)
            for s in session.scalars(select(Staff).order_by(Staff.id))]


def cmd_staff_list(args: argparse.Namespace) -> int:
    from bot import app as app_mod  # lazy: keeps --help light
    from storage.db import session_scope

    a = app_mod.build()
    with session_scope(a.engine, write=False) as s:
        rows = staff_rows(s)
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    cols = ("id", "name", "role", "team", "manager", "slack_id", "telegram_id", "tz", "lang", "notify", "active")
    table = [cols] + [tuple("" if r[c] is None else str(r[c]) for c in cols) for r in rows]
    widths = [max(_cells(row[i]) for row in table) for i in range(len(cols))]
    for row in table:
        print("  ".join(_pad(v, w) for v, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _cells(text: str) -> int:
    """The terminal columns `text` takes: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _cells(text))


def cmd_staff_invite(args: argparse.Namespace) -> int:
    from bot import app as app_mod  # lazy: keeps --help light
    from handlers.errors import UserError
    from handlers.services import staff_invites
    from storage.db import session_scope
    from storage.repos import staff as staff_repo

    a = app_mod.build()
    now = datetime.now(UTC)
    with session_scope(a.engine) as s:
        if args.all:
            people = [st for st in staff_repo.list_all(s, active_only=True) if st.telegram_id is None]
        else:
            st = staff_repo.get_by_name(s, name=args.name)
            if st is None:
                return _fail(f"no active staff member named {args.name!r} (see `crm-bot staff list`)")
            people = [st]
        try:
            invites = [(st.name, staff_invites.issue_token(s, st, now=now, ttl=a.settings.invite_ttl, by_id=None))
                       for st in people]
        except UserError as e:
            return _fail(t("en", e.key, **e.params))
    bot = a.config.telegram_bot_username
    if args.all:
        return _print_all(invites, bot)
    (name, inv), = invites
    if bot:
        print(f"Send {name} this link; opening it in Telegram links their account:")
        print(f"  https://t.me/{bot}?start={inv.token}")
    else:
        print("The Telegram bot's username is not configured (TELEGRAM_BOT_USERNAME), so there is no link.")
        print(f"Ask {name} to open a chat with the bot in Telegram and send:")
        print(f"  /start {inv.token}")
    print(f"Single use; valid until {inv.expires_at:%Y-%m-%d %H:%M} UTC.")
    return 0


def _print_all(invites: list, bot: str) -> int:  # noqa: ANN001 - (name, StaffInvite) pairs
    """One line per person: their link (or the /start line without TELEGRAM_BOT_USERNAME)."""
    if not invites:
        print("Everyone active has a Telegram account linked already.")
        return 0
    if not bot:
        print("TELEGRAM_BOT_USERNAME is not set, so there are no links: each person sends the bot their line.")
    width = max(_cells(n) for n, _ in invites)
    for name, inv in invites:
        print(f"{_pad(name, width)}  " + (f"https://t.me/{bot}?start={inv.token}" if bot else f"/start {inv.token}"))
    print(f"{len(invites)} invites; each works once, until {invites[0][1].expires_at:%Y-%m-%d %H:%M} UTC. "
          "Send each person their own line.")
    return 0
