"""`crm-bot import customers|contacts|followups|purchases FILE`: check a CSV/XLSX file, show the report, then
write it (`--yes`, or y/N on a terminal). All rows or none, unless `--only-good`."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.prompt import confirm

if TYPE_CHECKING:
    from bot.app import App
    from handlers.services.importing import ImportReport

KINDS = ("customers", "contacts", "followups", "purchases")  # handlers.services.import_kinds.IMPORTS (tested)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="import customers, contacts, follow-ups or purchases from a CSV (UTF-8 or "
                                      "GBK) or xlsx file")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("file", metavar="FILE")
    p.add_argument("--owner", metavar="NAME", help="customers: owner of rows without an owner column (default: --as)")
    p.add_argument("--as", dest="actor", metavar="NAME", help="who imports (default: the first admin)")
    p.add_argument("--dry-run", action="store_true", help="only show what would happen")
    p.add_argument("--yes", action="store_true", help="write without asking")
    p.add_argument("--only-good", action="store_true", help="write the good rows even if some are bad")
    p.set_defaults(func=cmd_import)


def _fail(msg: str) -> int:
    print(f"crm-bot: {msg}", file=sys.stderr)
    return 2


class Bar:
    """The progress line on a terminal: rows checked (of `rows`, when a dry run counted them), then, after
    `on_progress(0)`, rows written (of `total`)."""

    def __init__(self, rows: int | None = None, total: int | None = None) -> None:
        self.rows, self.total, self.writing = rows, total, False

    def __call__(self, n: int) -> None:
        if n == 0:
            self.writing = True
        label, of = ("writing", self.total) if self.writing else ("checking", self.rows)
        if of:
            done = min(n * 30 // of, 30)
            line = f"{label:<8} [{'#' * done}{'.' * (30 - done)}] {n}/{of} rows"
        else:
            line = f"{label:<8} … {n} rows"
        print(f"\r{line}", end="", file=sys.stderr, flush=True)

    def end(self) -> None:
        print("\r\033[K", end="", file=sys.stderr, flush=True)


def _run(a: App, args: argparse.Namespace, *, apply: bool, rows: int | None = None,
         total: int | None = None) -> ImportReport | str:
    # lazy: keeps --help light
    from handlers.cards.importing import import_report
    from handlers.context import Ctx
    from handlers.errors import UserError
    from handlers.lookup import find_staff
    from handlers.services.import_kinds import IMPORTS
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
        kw = {}
        if args.owner:
            try:
                kw["owner"] = find_staff(ctx, args.owner).id
            except UserError as e:
                return f"--owner: {ctx.t(e.key, **e.params)}"
        bar = Bar(rows, total) if sys.stderr.isatty() else None
        report = IMPORTS[args.kind](ctx, Path(args.file), apply=apply, only_good=args.only_good, on_progress=bar,
                                    **kw)
        if bar:
            bar.end()
        print("\n".join(import_report(ctx.lang, report)))
        if report.applied:
            print(ctx.t("import.written", created=len(report.created), updated=len(report.updated)), file=sys.stderr)
        return report


def _confirm() -> bool:
    go = confirm(False, "Write these changes?")  # --yes never comes here: it checks and writes in one run
    if go is None:
        print("crm-bot: nothing written (dry run); give --yes to write", file=sys.stderr)
    return bool(go)


def _blocked(report: ImportReport, args: argparse.Namespace) -> bool:
    if report.problems and not args.only_good:
        print("crm-bot: nothing written: fix the rows above, or give --only-good", file=sys.stderr)
        return True
    return False


def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        return _fail(f"cannot read {path}")
    if args.owner and args.kind != "customers":
        return _fail("--owner goes with `import customers` only")
    from bot import app as app_mod  # lazy: keeps --help light

    a = app_mod.build()
    if args.yes and not args.dry_run:  # check and write in one unit of work (nothing is written if a row is bad)
        done = _run(a, args, apply=True)
        return _fail(done) if isinstance(done, str) else (1 if _blocked(done, args) else 0)
    report = _run(a, args, apply=False)
    if isinstance(report, str):
        return _fail(report)
    if _blocked(report, args):
        return 1
    if args.dry_run or not (report.created or report.updated) or not _confirm():
        return 0
    done = _run(a, args, apply=True, rows=report.rows, total=len(report.created) + len(report.updated))
    return _fail(done) if isinstance(done, str) else 0
