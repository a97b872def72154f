"""The chat's views of `/import`: the dry run's report with its buttons, the progress line, the summary."""

from __future__ import annotations

from typing import Any

from handlers.cards.importing import import_report
from handlers.context import Ctx
from handlers.views import Action, Button, Buttons, Header, Reply, Text

MAX_PROBLEMS = 20  # shown in chat; the rest are counted (a chat message is not a spreadsheet)


def kind_name(ctx: Ctx, kind: str) -> str:
    return ctx.t(f"import.kind.{kind}")


def _report_views(ctx: Ctx, report: Any) -> tuple:  # report: importing.ImportReport
    lines = import_report(ctx.lang, report)
    n = len(report.problems)
    head, problems = (lines[:-n], lines[-n:]) if n else (lines, [])
    views: list = [Text("\n".join(head))]
    if problems:
        shown = problems[:MAX_PROBLEMS]
        if n > MAX_PROBLEMS:
            shown.append(ctx.t("import.chat.more_problems", count=n - MAX_PROBLEMS))
        views.append(Text("\n".join(shown)))
    return tuple(views)


def check_reply(ctx: Ctx, checked: Any) -> Reply:  # checked: services.import_chat.Checked (cards sit below)
    """The dry run: what would be created, updated and skipped, every problem, and the buttons."""
    r = checked.report
    todo = len(r.created) + len(r.updated)
    kind = kind_name(ctx, checked.kind)
    views: list = [Header(ctx.t("import.chat.title", name=checked.name, kind=kind)),
                   Text(ctx.t("import.chat.kind_found" if checked.detected else "import.chat.kind_said", kind=kind),
                        muted=True),
                   *_report_views(ctx, r)]
    if checked.owner is not None:
        views.append(Text(ctx.t("import.chat.owner", name=checked.owner.name), muted=True))
    if not checked.key:
        views.append(Text(ctx.t("import.chat.nothing")))
        return Reply(views=tuple(views))
    buttons = []
    if r.ok:
        views.append(Text(ctx.t("import.chat.ready", count=todo, kind=kind), muted=True))
        buttons.append(Button(ctx.t("import.btn.import", count=todo, kind=kind), Action(f"/import yes {checked.key}"),
                              "primary"))
    else:
        views.append(Text(ctx.t("import.chat.bad_rows", bad=len(r.skipped), count=todo), muted=True))
        buttons.append(Button(ctx.t("import.btn.good", count=todo, kind=kind), Action(f"/import good {checked.key}"),
                              "primary"))
    buttons.append(Button(ctx.t("import.btn.cancel"), Action(f"/import cancel {checked.key}"), "danger"))
    views.append(Buttons(tuple(buttons)))
    return Reply(views=tuple(views))


def checking_reply(ctx: Ctx, name: str, rows: int) -> Reply:
    return Reply(views=(Text(ctx.t("import.chat.checking", name=name[:80], rows=f"{rows:,}")),))


def progress_reply(ctx: Ctx, name: str, done: int, total: int, kind: str = "customers") -> Reply:
    pct = min(99, done * 100 // max(total, 1))
    return Reply(views=(Text(ctx.t("import.chat.progress", name=name, pct=pct, kind=kind_name(ctx, kind))),),
                 replace=True)


def done_reply(ctx: Ctx, name: str, report: Any, kind: str = "customers") -> Reply:
    """After the press: the summary, or (rows turned bad meanwhile) the report again with nothing written."""
    label = kind_name(ctx, kind)
    if not report.applied:
        return Reply(views=(Header(ctx.t("import.chat.title", name=name, kind=label)), *_report_views(ctx, report),
                            Text(ctx.t("import.chat.not_written"))), replace=True)
    hint = "import.chat.done_hint" if kind == "customers" else "import.chat.done_hint_records"
    return Reply(views=(Header(ctx.t("import.chat.done_title", name=name, kind=label)),
                        Text(ctx.t("import.chat.done", kind=label, created=len(report.created),
                                   updated=len(report.updated), unchanged=len(report.unchanged),
                                   skipped=len(report.skipped))),
                        Text(ctx.t(hint), muted=True)), replace=True)


def cancelled_reply(ctx: Ctx, name: str) -> Reply:
    return Reply(views=(Text(ctx.t("import.chat.cancelled", name=name)),), replace=True)


def how_reply(ctx: Ctx) -> Reply:
    """`/import` with no file: where to send it on this platform."""
    key = {"slack": "import.chat.how_slack", "telegram": "import.chat.how_telegram"}.get(ctx.platform,
                                                                                           "import.chat.how_console")
    return Reply(views=(Text(ctx.t(key, max=ctx.settings.import_max_mb)), Text(ctx.t("import.chat.how_columns"),
                                                                                muted=True),
                        Text(ctx.t("import.chat.how_kinds"), muted=True)))
