"""/export KIND — the rows of one kind as an .xlsx file (see handlers.exporting for the columns).

The spreadsheet speaks the reader's language: the handbook's column names (客户编号, 客户名称 … / Code, Name …),
enum labels, real date cells. `/export KIND csv|json` writes that format instead, with the canonical field
names and ids (for other programs). Admins get every row; a manager the rows of their team's
customers (and the pool); a rep the rows of the customers they own; agents and supervisors may export
tickets (all service records).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy.sql.elements import ColumnElement

from handlers import exporting
from handlers.commands.registry import command
from handlers.context import Ctx
from handlers.errors import Forbidden
from handlers.i18n import LANGS, t
from handlers.permissions import customer_filter
from handlers.services import audit
from handlers.views import Action, Button, Buttons, Error, FileRef, Reply, Text

SERVICE_KINDS = ("tickets",)
FORMATS = {"xlsx": exporting.XLSX_MIME, "excel": exporting.XLSX_MIME, "csv": "text/csv",
           "json": "application/json"}


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
    if ctx.role in ("rep", "manager"):
        return customer_filter(ctx)
    return None


def _menu(ctx: Ctx, text_key: str, **params: object) -> Reply:
    buttons = tuple(Button(ctx.t(f"export.kind.{k}"), Action(f"/export {k}")) for k in allowed_kinds(ctx))
    return Reply(views=(Text(ctx.t(text_key, **params)), Buttons(buttons)))


def _formats(ctx: Ctx, kind: str, fmt: str) -> Reply:
    """`/export opportunities xml`: name the format as what is wrong and offer the ones that work."""
    scope(ctx, kind)  # a kind the role may not export is refused as such first
    buttons = tuple(Button(f.upper(), Action(f"/export {kind} {f}")) for f in FORMATS if f != "excel")
    return Reply(views=(Error(ctx.t("export.bad_format", value=fmt[:20], formats=", ".join(b.label for b in buttons))),
                        Buttons(buttons)))


@command("export", aliases=("导出",), roles=("admin", "manager", "rep", "agent", "supervisor"))
def cmd_export(ctx: Ctx, args: str) -> Reply:
    words = args.split()
    if not words:
        return _menu(ctx, "export.choose")
    fmt = words.pop().lower() if len(words) > 1 and words[-1].lower() in FORMATS else "xlsx"
    fmt = "xlsx" if fmt == "excel" else fmt
    kind = match_kind(" ".join(words))
    if kind is None and len(words) > 1 and match_kind(" ".join(words[:-1])):
        return _formats(ctx, match_kind(" ".join(words[:-1])), words[-1])  # the kind is fine, the format not
    if kind is None:
        return _menu(ctx, "export.unknown", value=" ".join(words)[:60])
    rows = exporting.build_rows(ctx.session, kind, tz=ctx.tz, where=scope(ctx, kind))
    name = f"{kind}-{ctx.now.astimezone(ctx.tz):%Y%m%d-%H%M}.{fmt}"
    path = Path(tempfile.mkdtemp(prefix="crm-export-")) / name
    with path.open("wb") as out:
        exporting.write(rows, kind, fmt, out, lang=ctx.lang if fmt == "xlsx" else None)
    audit.record_export(ctx.session, actor_id=ctx.staff.id if ctx.staff else None, kind=kind, fmt=fmt,
                        rows=len(rows), now=ctx.now, via=ctx.platform)
    label = ctx.t(f"export.kind.{kind}")
    key = "export.done" if fmt == "xlsx" else "export.done_as"
    return Reply(views=(Text(ctx.t(key, count=len(rows), kind=label, fmt=fmt.upper())),),
                 file=FileRef(path=str(path), name=name, mime=FORMATS[fmt], title=label))
