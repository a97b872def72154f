"""Data subcommands: `export` and `demo`."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

# the choices of `export`, without importing handlers.exporting (a test checks they match)
KINDS = ("customers", "contacts", "followups", "opportunities", "tickets", "purchases")
FORMATS = ("json", "csv", "xlsx")
LANGS = ("zh", "en")


def register(sub: argparse._SubParsersAction) -> None:
    ex = sub.add_parser("export", help="export data as JSON, CSV or xlsx (no chat needed)")
    ex.add_argument("kind", choices=KINDS)
    ex.add_argument("--format", choices=FORMATS,
                    help="default: from the -o file's extension, else json")
    ex.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: standard output)")
    ex.add_argument("--lang", choices=LANGS,
                    help="column names and enum labels for a reader of this language (xlsx: default "
                         "CRM_DEFAULT_LANG; csv: default the canonical field names; json: always canonical)")
    ex.set_defaults(func=cmd_export)

    demo = sub.add_parser("demo", help="a fresh demo database with realistic data, then the console")
    demo.add_argument("--db", default="./data/demo.db", metavar="PATH",
                      help="the demo SQLite file (default ./data/demo.db; deleted and recreated)")
    demo.add_argument("--as", dest="user", metavar="NAME", help="who to be in the console (default: a rep)")
    demo.add_argument("--no-console", action="store_true", help="only create the database")
    demo.set_defaults(func=cmd_demo)


def _fail(msg: str) -> int:
    print(f"crm-bot: {msg}", file=sys.stderr)
    return 2


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    ext = Path(args.output).suffix.lower().lstrip(".") if args.output else ""
    return ext if ext in FORMATS else "json"


def cmd_export(args: argparse.Namespace) -> int:
    # lazy: keeps --help light
    from bot import app as app_mod
    from handlers import exporting
    from handlers.services import audit
    from storage.db import session_scope, utcnow

    fmt = _format(args)
    if fmt == "xlsx" and not args.output and sys.stdout.isatty():
        return _fail("xlsx is binary: give -o FILE (or redirect standard output)")
    if fmt == "json" and args.lang:
        return _fail("--lang is for csv and xlsx: JSON always has the canonical field names")
    a = app_mod.build()
    lang = args.lang or (a.settings.default_lang if fmt == "xlsx" else None)
    with session_scope(a.engine) as s:
        rows = exporting.build_rows(s, args.kind, tz=a.settings.default_tz)
        # recorded with the read: an export whose writing fails half-way has still read the data
        audit.record_export(s, actor_id=None, kind=args.kind, fmt=fmt, rows=len(rows), now=utcnow(),
                            via=f"cli:{getpass.getuser()}")
    if args.output:
        out = Path(args.output)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("wb") as f:
                exporting.write(rows, args.kind, fmt, f, lang=lang)
        except OSError as e:
            return _fail(f"cannot write {out}: {e.strerror or e}")
        print(f"exported {len(rows)} {args.kind} to {out} ({fmt})", file=sys.stderr)
        return 0
    sys.stdout.flush()
    exporting.write(rows, args.kind, fmt, sys.stdout.buffer, lang=lang)
    sys.stdout.buffer.flush()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot import demo

    return demo.run(db=args.db, user=args.user, console=not args.no_console)
