"""/report KIND [PERIOD] — dispatches to the kinds registered in handlers.reports."""

from __future__ import annotations

import importlib
import pkgutil

import handlers.services as services_pkg
from handlers import reports
from handlers.commands import command
from handlers.context import Ctx
from handlers.errors import Forbidden
from handlers.views import Action, Button, Buttons, Reply, Text


def _load_services() -> None:
    # reports are declared next to their services; import them so their @report decorators run
    for m in pkgutil.iter_modules(services_pkg.__path__):
        importlib.import_module(f"{services_pkg.__name__}.{m.name}")


@command("report", aliases=("reports", "报表"), roles=("admin", "manager", "supervisor", "rep", "agent"))
def cmd_report(ctx: Ctx, args: str) -> Reply:
    _load_services()
    kind, _, rest = args.strip().partition(" ")
    allowed = [r for r in reports.REPORTS.values() if ctx.role in r.roles]
    if not kind:
        buttons = tuple(Button(ctx.t(f"report.name.{r.kind}"), Action(f"/report {r.kind}")) for r in allowed)
        return Reply(views=(Text(ctx.t("report.choose")), Buttons(buttons)))
    rep = reports.find(kind)
    if rep is None:
        names = ", ".join(r.kind for r in allowed)
        return Reply(views=(Text(ctx.t("report.unknown", kind=kind, kinds=names)),))
    if ctx.role not in rep.roles:
        raise Forbidden("report.forbidden", kind=rep.kind)
    return rep.func(ctx, rest.strip())
