"""`crm-bot customer forget CODE`: the chat's `/customer forget`, run as an admin from the terminal."""

from __future__ import annotations

import argparse
import sys

from bot.prompt import confirm


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("customer", help="customer operations an admin runs from the terminal")
    cs = c.add_subparsers(dest="customer_command", metavar="COMMAND")
    cs.required = True
    f = cs.add_parser("forget", help="erase a customer's personal data (shows what goes, then asks)")
    f.add_argument("code", metavar="CODE")
    f.add_argument("--as", dest="actor", metavar="NAME", help="the admin who erases (default: the first admin)")
    f.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    f.set_defaults(func=cmd_forget)


def _fail(msg: str) -> int:
    print(f"crm-bot: {msg}", file=sys.stderr)
    return 2


def cmd_forget(args: argparse.Namespace) -> int:
    # lazy: keeps --help light
    from bot import app as app_mod
    from bot.console.render import render
    from handlers.context import Inbound
    from handlers.views import Buttons, Error, Reply
    from storage.db import session_scope
    from storage.repos import staff as staff_repo

    a = app_mod.build()
    with session_scope(a.engine) as s:
        admin = (staff_repo.get_by_name(s, name=args.actor) if args.actor
                 else staff_repo.first_active(s, role="admin"))
        if admin is None:
            return _fail("--as: no such active staff member" if args.actor else "no active admin: give --as NAME")
        name, lang = admin.name, admin.lang

    def say(line: str) -> bool:
        reply = a.core.handle(Inbound(platform="console", user_ref=name, chat_ref=f"@{name}", text=line))
        shown = Reply(views=tuple(v for v in reply.views if not isinstance(v, Buttons)))  # no buttons here
        print(render(shown, lang).text)
        return not any(isinstance(v, Error) for v in reply.views)

    if not say(f"/customer forget {args.code}"):
        return 1
    go = confirm(args.yes, "Erase?")
    if go is None:
        return _fail("nothing erased; give --yes to erase")
    if not go:
        print("nothing erased")
        return 1
    return 0 if say(f"/customer forget {args.code} confirm") else 1
