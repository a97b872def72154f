"""`crm-bot` — the command line: console, demo, db, staff, customer, export, import, jobs, outbox, backup, restore, run, slack.

Each module of `_MODULES` adds its subcommands with `register(subparsers)`. A start-up problem
(bad setting, unreachable database) prints one line and exits with status 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from bot import cli_backup, cli_core, cli_customer, cli_data, cli_import, cli_jobs, run_both
from bot.errors import StartupError
from bot.slack import cli as slack_cli
from bot.telegram import cli as telegram_cli

_MODULES = (cli_core, cli_customer, cli_data, cli_import, cli_jobs, cli_backup, slack_cli, telegram_cli, run_both)  # run_both: after both `run`s


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="crm-bot", description="A CRM and service desk in Slack and Telegram.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in _MODULES:
        module.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    from dotenv import load_dotenv

    load_dotenv(".env", override=False)  # the environment wins; every variable of .env.example is seen
    args = parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except StartupError as e:
        print(f"crm-bot: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `crm-bot … | head`: the reader left; nothing to report
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
