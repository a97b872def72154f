"""Test-only verbs and a dialog for the Telegram adapter tests (hidden: not in /help, not in menus).

Importing this module registers them once:
- `/tgtest_dialog`: a three-step dialog (a choice with buttons, free text, an optional choice) that answers
  with a summary quoting the user's text (escaping is visible there).
- `/tgtest_long N`: a text of N characters in many lines; `/tgtest_list N`: one ListPage of N items with a
  button each.
- `/tgtest_file PATH`: a reply with the file attached (a .png goes as a photo).
- `/tgtest_count`: increments a counter in the settings table (to see an update processed twice).
- `/tgtest_post ID`: posts a notification with buttons to the service channel (the outbox);
  `/tgtest_take ID`: edits that post in place (the button on it runs this).
"""

from __future__ import annotations

import json

from handlers import notify
from handlers.commands import COMMANDS, command
from handlers.context import Ctx
from handlers.dialogs import engine as dialogs
from handlers.views import (
    Action,
    Button,
    Buttons,
    Fields,
    FileRef,
    Header,
    ListItem,
    ListPage,
    Reply,
    Text,
)
from storage.models import Setting

KINDS = [("Apples <&> pears", "apple"), ("Bananas", "banana"), ("中文选项", "cn")]


def _done(ctx: Ctx, values: dict) -> Reply:
    return Reply(views=(Header("Saved"), Fields((("kind", values["kind"]), ("note", values["note"]),
                                                  ("prio", str(values.get("prio")))))))


def _kind(ctx: Ctx, text: str, values: dict) -> str:
    for label, value in KINDS:
        if text in (label, value):
            return value
    from handlers.errors import InvalidInput

    raise InvalidInput("err.bad_choice", value=text, choices=", ".join(v for _, v in KINDS))


DIALOG = dialogs.Dialog(
    "tgtest", "tgtest.title",
    steps=(dialogs.Step("kind", "tgtest.kind", parse=_kind, choices=lambda ctx, v: KINDS),
           dialogs.Step("note", "tgtest.note"),
           dialogs.Step("prio", "tgtest.prio", optional=True,
                        choices=lambda ctx, v: [("high", "high"), ("low", "low")])),
    on_done=_done)


def _register() -> None:
    if "tgtest_dialog" in COMMANDS:
        return
    dialogs.register(DIALOG)

    @command("tgtest_dialog", audience="both", hidden=True)
    def cmd_dialog(ctx: Ctx, args: str) -> Reply:
        return dialogs.start(ctx, "tgtest")

    @command("tgtest_long", audience="both", hidden=True)
    def cmd_long(ctx: Ctx, args: str) -> Reply:
        n = int(args or 10000)
        line = "line <b>&amp; " + "x" * 60
        text = "\n".join(f"{i:04d} {line}" for i in range(n // (len(line) + 6) + 1))[:n]
        return Reply(views=(Header("Long"), Text(text)))

    @command("tgtest_list", audience="both", hidden=True)
    def cmd_list(ctx: Ctx, args: str) -> Reply:
        n = int(args.split()[0]) if args else 300
        items = tuple(ListItem(f"Item {i} <{i}>", detail=f"detail & {i}",
                               buttons=(Button("Open", Action(f"/tgtest_count {i}")),)) for i in range(n))
        page = 2 if args.endswith("p2") else 1
        return Reply(views=(ListPage("Everything", items, page=page, pages=2, total=n * 2,
                                     prev=Action(f"/tgtest_list {n} p1") if page == 2 else None,
                                     next=Action(f"/tgtest_list {n} p2") if page == 1 else None),),
                     replace=ctx.via_button)

    @command("tgtest_count", audience="both", hidden=True)
    def cmd_count(ctx: Ctx, args: str) -> Reply:
        row = ctx.session.get(Setting, "tgtest_counter")
        if row is None:
            row = Setting(key="tgtest_counter", value="0", updated_at=ctx.now)
            ctx.session.add(row)
        row.value = json.dumps(int(row.value) + 1)
        ctx.session.flush()
        return Reply(views=(Text(f"count={row.value}"),))

    @command("tgtest_file", audience="both", hidden=True)
    def cmd_file(ctx: Ctx, args: str) -> Reply:
        path = args.strip()
        mime = "image/png" if path.endswith(".png") else "application/vnd.ms-excel"
        return Reply(views=(Text("your file"),), file=FileRef(path=path, name=path.rsplit("/", 1)[-1], mime=mime,
                                                              title="Export <1>"))

    @command("tgtest_post", audience="both", hidden=True)
    def cmd_post(ctx: Ctx, args: str) -> Reply:
        pid = args.strip() or "1"
        notify.to_service_channel(ctx.session, ctx.channels, key=f"tgtest:{pid}", now=ctx.now, reply=Reply(
            views=(Header(f"Ticket {pid} <new>"), Text("Customer says: 5 > 3 & <b>bold</b>"),
                   Buttons((Button("Take it", Action(f"/tgtest_take {pid}"), style="primary"),)))))
        return Reply(views=(Text("posted"),))

    @command("tgtest_take", audience="both", hidden=True)
    def cmd_take(ctx: Ctx, args: str) -> Reply:
        pid = args.strip()
        notify.edit_service_post(ctx.session, ctx.channels, key=f"tgtest:{pid}", version="taken",
                                 now=ctx.now, reply=Reply(views=(Header(f"Ticket {pid}"),
                                                                 Text(f"Taken by {ctx.user_ref}"))))
        return Reply(views=(Text("taken"),))


_register()
