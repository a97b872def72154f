"""The verb table. Feature modules in this package register their verbs with `@command`.

Every module in `handlers/commands/` is imported by `load_all()`, so adding a module is enough to add verbs.
A handler is `def cmd_<verb>(ctx: Ctx, args: str) -> Reply`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

from handlers import inputs
from handlers.context import Ctx
from handlers.views import Reply

# The verbs every platform offers (issue 2), in help order.
VERBS = ("help", "customer", "approvals", "log", "followups", "history", "opp", "purchase", "ticket", "tickets",
         "report", "export", "import", "handover", "pool", "claim", "staff", "lang")

Handler = Callable[[Ctx, str], Reply]


@dataclass(frozen=True)
class Command:
    verb: str
    func: Handler
    aliases: tuple[str, ...] = ()
    audience: str = "staff"  # staff | customer | both | anyone
    roles: tuple[str, ...] | None = None  # staff roles allowed; None: every role
    hidden: bool = False  # not listed in /help (button-only verbs such as rate)
    help_key: str = ""
    usage_key: str = ""
    extras: dict = field(default_factory=dict)


COMMANDS: dict[str, Command] = {}
ALIASES: dict[str, str] = {}
# `(ctx, text) -> Reply | None` for plain text outside a dialog; every Core copies these after load_all().
PLAIN_TEXT_HOOKS: list[Callable[[Ctx, str], Reply | None]] = []


def command(verb: str, *, aliases: tuple[str, ...] = (), audience: str = "staff",
            roles: tuple[str, ...] | None = None, hidden: bool = False) -> Callable[[Handler], Handler]:
    def deco(func: Handler) -> Handler:
        if verb in COMMANDS:
            raise RuntimeError(f"verb /{verb} registered twice")
        COMMANDS[verb] = Command(verb=verb, func=func, aliases=aliases, audience=audience, roles=roles,
                                 hidden=hidden, help_key=f"help.{verb}", usage_key=f"usage.{verb}")
        for a in aliases:
            ALIASES[a.lower()] = verb
        return func

    return deco


def lookup(word: str) -> Command | None:
    w = inputs.key(word).lower()
    return COMMANDS.get(w) or COMMANDS.get(ALIASES.get(w, ""))


_loaded = False


def load_all() -> None:
    global _loaded
    if _loaded:
        return
    for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{m.name}")
    _loaded = True
