"""`crm-bot import customers FILE`: check a CSV/XLSX file, show the report, then write it (`--yes` or y/N)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import App
    from handlers.services.importing import ImportReport


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import customers from a CSV (UTF-8 or GBK) or xlsx file")
    p.add_argument("kind", choices=("customers",))
    p.add_argument("file", metavar="FILE")
    p.add_argument("--owner", metavar="NAME", help="owner of rows without an owner column (default: --as)")
    p.add_argument("--as", dest="actor", metavar="NAME", help="who imports (default: the first admin)")
    p.add_argument("--dry-run", action="store_true", help="only show what would happen")
    p.add_argument("--yes", action="store_true", help="write without asking")
    p.add_argument("--only-good", action="store_true", help="write the good rows even if some are bad")
    p.set_defaults(func=cmd_import)


def _fail(msg: str) -> int:
    print(f"crm-bot: {msg}", file=sys.stderr)
    return 2


def _progress(n: int) -> None:
    print(f"\r… {n} rows", end="", file=sys.stderr, flush=True)


def _run(a: App, args: argparse.Namespace, *, apply: bool) -> ImportReport | str:
    # lazy: keeps --help light
    from handlers.cards.importing import import_report
    from handlers.context import Ctx
    from handlers.errors import UserError
    from handlers.lookup import find_staff
    from handlers.services.importing import import_customers
    from storage.db import session_scope
    from storage.repos import staff as staff_repo

    with session_scope(a.engine) as s:
        actor = (staff_repo.get_by_name(s, name=args.actor) if args.actor
                 else staff_repo.first_active(s, role="admin"))
        if actor is None:
            return "--as: no such active staff member" if args.actor else "no active admin: give --as NAME"
        ctx = Ctx(session=s, now=datetime.now(UTC), settings=a.settings, platform="console",
                  chat_ref=f"@{actor.name}", user_ref=actor.name, lang=actor.lang or a.settings.default_lang,
                  staff=actor)
        try:
            owner = find_staff(ctx, args.owner).id if args.owner else None
        except UserError as e:
            return f"--owner: {ctx.t(e.key, **e.params)}"
        report = import_customers(ctx, Path(args.file), owner=owner, apply=apply, only_good=args.only_good,
                                  progress=_progress if sys.stderr.isatty() else None)
        print("\n".join(import_report(ctx.lang, report)))
        return report


def _confirm(args: argparse.Namespace) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print("crm-bot: nothing written (dry run); give --yes to write", file=sys.stderr)
        return False
    return input("Write these changes? [y/N] ").strip().lower() in ("y", "yes")


def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        return _fail(f"cannot read {path}")
    from bot import app as app_mod  # lazy: keeps --help light

    a = app_mod.build()
    report = _run(a, args, apply=False)
    if isinstance(report, str):
        return _fail(report)
    if report.problems and not args.only_good:
        print("crm-bot: nothing written: fix the rows above, or give --only-good", file=sys.stderr)
        return 1
    if args.dry_run or not (report.created or report.updated):
        return 0
    if not _confirm(args):
        return 0
    done = _run(a, args, apply=True)
    if isinstance(done, str):
        return _fail(done)
    print(f"written: {len(done.created)} created, {len(done.updated)} updated", file=sys.stderr)
    return 0
