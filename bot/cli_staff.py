"""`crm-bot staff edit|deactivate|activate|import` — the shared checks live in handlers.services.staff_edit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from handlers.errors import InvalidInput
from handlers.i18n import t

# handlers.services.staff_edit.FIELDS, without importing it (a test checks they match)
OPTIONS = ("name", "role", "team", "manager", "slack_id", "telegram_id", "email", "tz", "lang", "notify",
           "reminder_time")


def register(sts: argparse._SubParsersAction) -> None:
    ed = sts.add_parser("edit", help="change a staff member's fields")
    ed.add_argument("staff", metavar="NAME")
    for opt in OPTIONS:
        ed.add_argument("--" + opt.replace("_", "-"), dest=opt, metavar="VALUE")
    ed.set_defaults(func=cmd_staff_edit)
    for verb in ("deactivate", "activate"):
        p = sts.add_parser(verb, help=f"{verb} a staff member")
        p.add_argument("staff", metavar="NAME")
        p.set_defaults(func=cmd_staff_active, active=verb == "activate")
    im = sts.add_parser("import", help="add or edit staff from a CSV or XLSX file (dry run unless --yes)")
    im.add_argument("file", metavar="FILE")
    im.add_argument("--yes", action="store_true", help="apply (all rows or none)")
    im.set_defaults(func=cmd_staff_import)


def _fail(msg: str) -> int:
    print(f"crm-bot: {msg}", file=sys.stderr)
    return 2


def cmd_staff_edit(args: argparse.Namespace) -> int:
    changes = {f: getattr(args, f) for f in OPTIONS if getattr(args, f) is not None}
    if not changes:
        return _fail("nothing to change: give at least one --FIELD VALUE")
    # lazy: keeps --help light
    from bot import app as app_mod
    from handlers.services import staff_edit
    from storage.db import session_scope
    from storage.repos import staff as staff_repo

    a = app_mod.build()
    with session_scope(a.engine) as s:
        target = staff_repo.get_by_name(s, name=args.staff, active=False)
        if target is None:
            return _fail(f"no staff member named {args.staff!r}")
        try:
            values = staff_edit.validate(s, target, changes)
        except InvalidInput as e:
            return _fail(t("en", e.key, **e.params))
        changed = staff_edit.apply(s, actor_id=None, target=target, values=values, now=datetime.now(UTC))
        name = target.name
    print(f"{name}: changed {', '.join(changed)}" if changed else f"{name}: nothing changed")
    return 0


def cmd_staff_active(args: argparse.Namespace) -> int:
    # lazy: keeps --help light
    from bot import app as app_mod
    from handlers.services import staff_edit
    from storage.db import session_scope
    from storage.repos import staff as staff_repo

    a = app_mod.build()
    with session_scope(a.engine) as s:
        target = staff_repo.get_by_name(s, name=args.staff, active=False)
        if target is None:
            return _fail(f"no staff member named {args.staff!r}")
        if target.active == args.active:
            key = "staffcmd.err.already_active" if args.active else "staffcmd.err.already_inactive"
            return _fail(t("en", key, name=target.name))
        staff_edit.apply(s, actor_id=None, target=target, values={"active": args.active}, now=datetime.now(UTC))
        owned, name = staff_repo.owned_customers(s, target.id), target.name
    print(t("en", "staffcmd.activated" if args.active else "staffcmd.deactivated", name=name))
    if not args.active and owned:
        print(t("en", "staffcmd.still_owns", name=name, count=owned))
    return 0


def read_rows(path: Path) -> Iterator[dict[str, str]]:
    """The file's rows as {field: text}, read as the customer importer reads a file (CSV in UTF-8, BOM or GBK;
    XLSX); headers are mapped by `staff_import.columns`."""
    from handlers.services import importing, staff_import  # lazy: keeps --help light

    _, stream = importing.open_rows(path)
    it = stream()
    header = staff_import.columns(h.strip() for h in next(it, []))
    for row in it:
        if any(v.strip() for v in row):
            yield {k: v.strip() for k, v in zip(header, row, strict=False)}


def cmd_staff_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        return _fail(f"{args.file}: no such file")
    # lazy: keeps --help light
    from bot import app as app_mod
    from handlers.services import staff_import
    from storage.db import session_scope

    a = app_mod.build()
    defaults = {"tz": a.settings.default_tz, "lang": a.settings.default_lang}
    with session_scope(a.engine) as s:
        try:
            result = staff_import.import_rows(s, read_rows(path), actor_id=None, now=datetime.now(UTC),
                                              defaults=defaults)
        except InvalidInput as e:  # an unknown column header
            s.rollback()
            return _fail(f"{args.file}: {t('en', e.key, **e.params)}")
        for p in result.problems:
            print(f"row {p.row}: {t('en', p.key, **p.params)}")
        print(f"{len(result.created)} to add, {len(result.updated)} to change, {len(result.unchanged)} unchanged, "
              f"{len(result.problems)} with problems")
        if result.problems or not args.yes:
            s.rollback()  # all or nothing: the scope then commits an empty transaction
            print("nothing written" + ("" if result.problems else " (dry run: add --yes to apply)"))
            return 2 if result.problems else 0
    print("imported")
    return 0
