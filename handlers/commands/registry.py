"""The verb table. Feature modules in `handlers/commands/` register their verbs with `@command`
(`from handlers.commands.registry import command`); the package's `__init__` imports each of them.

A handler is `def cmd_<verb>(ctx: Ctx, args: str) -> Reply`.
"""

from __future__ import annotations

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
    reads: bool | Callable[[str], bool] = False  # only reads (given its arguments): runs in a read unit of work

    def reads_only(self, args: str) -> bool:
        """Does `/verb args` only read (a list, a card, a report)? Such a command runs outside the writer queue
        (storage/db.py); should it write after all (a button stored for later), it is retried as a write."""
        return self.reads(args) if callable(self.reads) else self.reads


COMMANDS: dict[str, Command] = {}
ALIASES: dict[str, str] = {}
# `(ctx, text) -> Reply | None` for plain text outside a dialog; every Core copies these when it starts.
PLAIN_TEXT_HOOKS: list[Callable[[Ctx, str], Reply | None]] = []


def command(verb: str, *, aliases: tuple[str, ...] = (), audience: str = "staff",
            roles: tuple[str, ...] | None = None, hidden: bool = False,
            reads: bool | Callable[[str], bool] = False) -> Callable[[Handler], Handler]:
    def deco(func: Handler) -> Handler:
        if verb in COMMANDS:
            raise RuntimeError(f"verb /{verb} registered twice")
        COMMANDS[verb] = Command(verb=verb, func=func, aliases=aliases, audience=audience, roles=roles,
                                 hidden=hidden, help_key=f"help.{verb}", usage_key=f"usage.{verb}", reads=reads)
        for a in aliases:
            ALIASES[a.lower()] = verb
        return func

    return deco


def lookup(word: str) -> Command | None:
    w = inputs.key(word).lower()
    return COMMANDS.get(w) or COMMANDS.get(ALIASES.get(w, ""))


def may_use(ctx: Ctx, cmd: Command) -> bool:
    """Is the verb for this audience (staff, a bound customer chat, anyone)?"""
    if cmd.audience == "anyone":
        return True
    if ctx.staff is not None:
        return cmd.audience in ("staff", "both")
    if ctx.binding is not None:
        return cmd.audience in ("customer", "both")
    return False


def visible_commands(ctx: Ctx) -> list[Command]:
    """The verbs /help lists for the actor: their audience's, their role's, not hidden."""
    return [c for c in COMMANDS.values()
            if not c.hidden and may_use(ctx, c)
            and (ctx.staff is None or c.roles is None or ctx.staff.role in c.roles)]
