"""/export KIND — the rows of one kind as an .xlsx file (see handlers.exporting for the columns).

Admins and managers get every row; a rep gets the rows of the customers they own; agents and supervisors
may export tickets (all service records).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy.sql.elements import ColumnElement

from handlers import exporting
from handlers.commands import command
from handlers.context import Ctx
from handlers.errors import Forbidden
from handlers.i18n import LANGS, t
from handlers.views import Action, Button, Buttons, FileRef, Reply, Text
from storage.models import Customer

SERVICE_KINDS = ("tickets",)


def allowed_kinds(ctx: Ctx) -> tuple[str, ...]:
    return SERVICE_KINDS if ctx.role in ("agent", "supervisor") else exporting.KINDS


def match_kind(text: str) -> str | None:
    w = text.strip().lower()
    for kind in exporting.KINDS:
        names = {kind, kind.rstrip("s")}
        for lang in LANGS:
            names.add(t(lang, f"export.kind.{kind}").lower())
            names.update(a.strip().lower() for a in t(lang, f"export.alias.{kind}").split(",") if a.strip())
        if w in names:
            return kind
    return None


def scope(ctx: Ctx, kind: str) -> ColumnElement[bool] | None:
    """Which customers' rows the actor may export (None: all)."""
    if kind not in allowed_kinds(ctx):
        raise Forbidden("export.forbidden", kind=ctx.t(f"export.kind.{kind}"))
    if ctx.role == "rep":
        return Customer.owner_id == ctx.staff.id  # type: ignore[union-attr]
    return None


def _menu(ctx: Ctx, text_key: str, **params: object) -> Reply:
    buttons = tuple(Button(ctx.t(f"export.kind.{k}"), Action(f"/export {k}")) for k in allowed_kinds(ctx))
    return Reply(views=(Text(ctx.t(text_key, **params)), Buttons(buttons)))


@command("export", aliases=("导出",), roles=("admin", "manager", "rep", "agent", "supervisor"))
def cmd_export(ctx: Ctx, args: str) -> Reply:
    word = args.strip().split()[0] if args.strip() else ""
    if not word:
        return _menu(ctx, "export.choose")
    kind = match_kind(word)
    if kind is None:
        return _menu(ctx, "export.unknown", value=word)
    rows = exporting.build_rows(ctx.session, kind, tz=ctx.tz, where=scope(ctx, kind))
    name = f"{kind}-{ctx.now.astimezone(ctx.tz):%Y%m%d-%H%M}.xlsx"
    path = Path(tempfile.mkdtemp(prefix="crm-export-")) / name
    path.write_bytes(exporting.to_xlsx(rows, kind))
    label = ctx.t(f"export.kind.{kind}")
    return Reply(views=(Text(ctx.t("export.done", count=len(rows), kind=label)),),
                 file=FileRef(path=str(path), name=name, mime=exporting.XLSX_MIME, title=label))
