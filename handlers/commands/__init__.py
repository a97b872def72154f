"""The verbs. Each module of this package registers its verbs in `handlers.commands.registry` with
`@command`; importing this package imports every one of them (a new module is added to the list below).

The modules are imported in the order /help lists their verbs (`purchases` before `opps`).
"""

from __future__ import annotations

# isort: off
from handlers.commands.registry import (  # noqa: F401 - the table, for `from handlers import commands`
    ALIASES, COMMANDS, PLAIN_TEXT_HOOKS, VERBS, Command, Handler, command, lookup, may_use, visible_commands)
from handlers.commands import core, customer_chat, customers, customers_approvals, export, importing  # noqa: F401
from handlers.commands import followups, followups_list, purchases  # noqa: F401
from handlers.commands import me, opps, ownership, report, setup, staff, team, tickets  # noqa: F401
# isort: on


def load_all() -> None:
    """Every verb is registered once this package is imported; kept for the callers that ask for it."""
