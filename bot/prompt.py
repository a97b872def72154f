"""Asking the operator before the command line does something it cannot undo."""

from __future__ import annotations

import sys


def confirm(yes: bool, question: str) -> bool | None:
    """True: go ahead (`--yes`, or "y" typed at a terminal). False: the operator said no. None: nobody to ask
    (standard input is not a terminal): the caller says to give `--yes`."""
    if yes:
        return True
    if not sys.stdin.isatty():
        return None
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
