"""/nudge CODE (a manager reminds the owner to contact a customer) and /keep CODE (the owner keeps a customer
the pool would take back). Both are the typed form of the buttons of the manager's alerts and the pool warning."""

from __future__ import annotations

from handlers.commands.registry import command
from handlers.context import Ctx
from handlers.errors import InvalidInput
from handlers.lookup import resolve_customer
from handlers.services import pool, team_watch
from handlers.views import Action, Button, Buttons, Reply, Text


@command("nudge", aliases=("催办",), roles=("manager", "admin"), hidden=True)
def cmd_nudge(ctx: Ctx, args: str) -> Reply:
    c, owner = team_watch.nudge(ctx, args)
    return Reply(views=(Text(ctx.t("team.nudged", name=owner.name, code=c.code)),))


@command("keep", aliases=("保留",), roles=("rep", "manager", "admin"), hidden=True)
def cmd_keep(ctx: Ctx, args: str) -> Reply:
    if not args.strip():
        raise InvalidInput("team.keep_usage")
    c = resolve_customer(ctx, args.strip())
    r = pool.keep(ctx, c)
    on = ctx.fmt_dt(r.returns_at, date_only=True)
    if r.kept:
        text = ctx.t("team.kept", code=c.code, name=c.name, last=ctx.fmt_dt(r.since, date_only=True), date=on)
        return Reply(views=(Text(text),), replace=ctx.via_button)
    return Reply(views=(Text(ctx.t("team.keep_needs_log", code=c.code, name=c.name, date=on)),
                        Buttons((Button(ctx.t("job.digest.log"), Action(f"/log {c.code}"), "primary"),))))
