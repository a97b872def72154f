"""Test-only verbs and dialogs for adapter tests (registered by the `testkit` fixture, removed afterwards).

- `/t_echo TEXT`: echoes what the core received (checks decoding and escaping).
- `/t_form`: starts the `t_dialog` dialog (a modal on Slack) whose `name` step rejects one-letter names;
  `/t_form two` starts `t_two`, whose submit opens `t_dialog` as the next form (a multi-step modal).
- `/t_notify TEXT`: writes an outbox post to the service channel with buttons (`Take` runs `/t_take`).
- `/t_take`: answers with `replace=True` (the channel post is updated in place).
- `/t_big`: a ListPage of 300 items with buttons and a 10,000-character note; `/t_huge`: a 40,000-character text.
- `/t_pick`: a select of three agents (each runs `/t_echo picked N`); `/t_file PATH`: a reply with a file.
- `/t_count`: increments a counter in the database (duplicate-processing checks); `t_count()` reads it.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlmodel import Session

from handlers import commands, notify
from handlers.context import Ctx
from handlers.dialogs import engine as dialogs
from handlers.errors import InvalidInput
from handlers.views import (
    Action,
    Button,
    Buttons,
    Fields,
    FileRef,
    Header,
    ListItem,
    ListPage,
    Option,
    Reply,
    Select,
    Text,
)
from storage.models import Setting

NOTE = ("Customer said: " + "very long note & <b>markup</b> " * 400)[:10_000]


def _bump(session: Session, ctx: Ctx, key: str = "t_count") -> int:
    row = session.get(Setting, key)
    if row is None:
        row = Setting(key=key, value="0", updated_at=ctx.now)
        session.add(row)
    row.value = str(int(row.value) + 1)
    session.flush()
    return int(row.value)


def t_count(engine, key: str = "t_count") -> int:  # noqa: ANN001
    with Session(engine) as s:
        row = s.get(Setting, key)
        return int(row.value) if row else 0


def cmd_echo(ctx: Ctx, args: str) -> Reply:
    return Reply(views=(Text(args), Fields((("echo", args),))), text=args)


def cmd_form(ctx: Ctx, args: str) -> Reply:
    return dialogs.start(ctx, "t_two" if args.strip() == "two" else "t_dialog")


def cmd_notify(ctx: Ctx, args: str) -> Reply:
    post = Reply(views=(Header("New ticket"), Text(f"<!channel> {args}"),
                        Buttons((Button("Take", Action("/t_take")), Button("Echo", Action(f"/t_echo {args}"))))))
    notify.to_service_channel(ctx.session, ctx.channels, key=f"t_notify:{args}", reply=post, now=ctx.now)
    return Reply(views=(Text("posted"),))


def cmd_take(ctx: Ctx, args: str) -> Reply:
    n = _bump(ctx.session, ctx, "t_take")
    return Reply(views=(Text(f"Taken by {ctx.staff.name} ({n})"),), replace=True)


def cmd_big(ctx: Ctx, args: str) -> Reply:
    items = tuple(ListItem(f"Customer {i} <@here>", f"due {i} & soon",
                           (Button(f"Done {i}", Action(f"/t_echo done {i}")),) if i % 2 else ())
                  for i in range(300))
    return Reply(views=(Text(NOTE), ListPage("Follow-ups", items, page=1, pages=3, total=900,
                                              next=Action("/t_big p2"))))


def cmd_huge(ctx: Ctx, args: str) -> Reply:
    return Reply(views=(Text("x" * 40_000),))


def cmd_count(ctx: Ctx, args: str) -> Reply:
    return Reply(views=(Text(f"count {_bump(ctx.session, ctx)}"),))


def cmd_pick(ctx: Ctx, args: str) -> Reply:
    options = tuple(Option(f"Agent {i}", Action(f"/t_echo picked {i}")) for i in range(1, 4))
    return Reply(views=(Select("Assign to", options),))


def cmd_file(ctx: Ctx, args: str) -> Reply:
    return Reply(views=(Text("your file"),), file=FileRef(args, "export.xlsx", title="Export"))


def parse_name(ctx: Ctx, text: str, values: dict) -> str:
    if len(text) < 2:
        raise InvalidInput("err.bad_choice", value=text, choices="two letters or more")
    return text


def done(ctx: Ctx, values: dict) -> Reply:
    _bump(ctx.session, ctx)
    return Reply(views=(Text(f"saved {values['name']} {values['priority']} {values.get('note') or ''}".strip()),))


T_DIALOG = dialogs.Dialog("t_dialog", "help.title", steps=(
    dialogs.Step("name", "help.customer", parse=parse_name),
    dialogs.Step("priority", "help.ticket", choices=lambda ctx, v: [("High", "high"), ("Low", "low")]),
    dialogs.Step("note", "help.log", optional=True, multiline=True),
), on_done=done)

T_TWO = dialogs.Dialog("t_two", "help.title", steps=(dialogs.Step("first", "help.customer"),),
                       on_done=lambda ctx, v: dialogs.start(ctx, "t_dialog"))

LOG_CALL = dialogs.Dialog("log_call", "help.log", steps=(
    dialogs.Step("customer", "help.customer"),
    dialogs.Step("content", "help.log", multiline=True),
), on_done=lambda ctx, v: Reply(views=(Text(f"logged {v['customer']}: {v['content']}"),)))

VERBS = {"t_echo": cmd_echo, "t_form": cmd_form, "t_notify": cmd_notify, "t_take": cmd_take, "t_big": cmd_big,
         "t_huge": cmd_huge, "t_count": cmd_count, "t_pick": cmd_pick, "t_file": cmd_file}


@contextmanager
def registered(extra: dict | None = None, dialogs_: tuple = ()):  # noqa: ANN201
    commands.load_all()
    added_verbs, added_dialogs = [], []
    for verb, func in {**VERBS, **(extra or {})}.items():
        if commands.lookup(verb) is None:
            commands.command(verb, hidden=True)(func)
            added_verbs.append(verb)
    for d in (T_DIALOG, T_TWO, *dialogs_):
        if d.name not in dialogs.DIALOGS:
            dialogs.register(d)
            added_dialogs.append(d.name)
    try:
        yield
    finally:
        for v in added_verbs:
            commands.COMMANDS.pop(v, None)
        for d in added_dialogs:
            dialogs.DIALOGS.pop(d, None)


@pytest.fixture
def testkit():  # noqa: ANN201
    with registered():
        yield
