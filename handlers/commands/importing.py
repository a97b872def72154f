"""/import — customers, contacts, follow-ups or purchases from a spreadsheet sent in the chat (CSV in UTF-8/GBK,
or XLSX).

Send the file (Slack: upload it in the DM with the bot; Telegram: as a document; console: `/import PATH`),
optionally with the kind (`contacts` 联系人, `followups` 跟进记录, `purchases` 购买记录, `customers` 客户; without
it the file's headers tell) and, for customers, `owner:NAME` for rows without an owner column. The bot answers with the dry run (created,
updated, skipped, every problem by row and field, the encoding) and Import / Import only the good rows /
Cancel. Import shows its progress in that message and ends with the summary. Reps import into their own book,
managers for their team, admins for anyone (`handlers.services.import_chat`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from handlers.cards import import_chat as cards
from handlers.commands.registry import command
from handlers.context import Attachment, Ctx
from handlers.errors import InvalidInput
from handlers.services import import_chat
from handlers.views import Reply, Text

VERB_WORDS = ("/import", "import", "/导入", "导入")
OWNER = re.compile(r"(?:^|\s)(?:owner|负责人)\s*[:：=]\s*(\S+)", re.IGNORECASE)
KIND_WORDS = {"customers": "customers", "customer": "customers", "客户": "customers",
              "contacts": "contacts", "contact": "contacts", "联系人": "contacts",
              "followups": "followups", "followup": "followups", "follow-ups": "followups", "follow-up": "followups",
              "跟进记录": "followups", "跟进": "followups",
              "purchases": "purchases", "purchase": "purchases", "购买记录": "purchases", "购买": "purchases"}
SUB = {"yes": False, "good": True}
EVERY_SECONDS = 2.0
EVERY_PERCENT = 10
CHECKING_FROM = 1000  # rows: a smaller file is checked before a line about it would be read


def split_owner(args: str) -> tuple[str, str | None]:
    """(the rest, NAME of `owner:NAME` / `负责人:NAME`)."""
    m = OWNER.search(args)
    if not m:
        return args.strip(), None
    return (args[: m.start()] + args[m.end():]).strip(), m.group(1)


def split_kind(args: str) -> tuple[str, str | None]:
    """(the rest, the kind its first word names, or None)."""
    words = args.strip().split(maxsplit=1)
    if words and words[0].lower() in KIND_WORDS:
        return (words[1] if len(words) > 1 else ""), KIND_WORDS[words[0].lower()]
    return args.strip(), None


def strip_verb(text: str) -> str:
    """A file's caption without its leading `/import` (or 导入): what is left are the arguments."""
    words = text.strip().split(maxsplit=1)
    if words and words[0].split("@", 1)[0].lower() in VERB_WORDS:
        return words[1] if len(words) > 1 else ""
    return text.strip()


def throttled(ctx: Ctx, name: str, kind: str) -> Callable[[int, int], None] | None:
    """Progress to the chat at most every `EVERY_PERCENT` percent or `EVERY_SECONDS` seconds."""
    show = ctx.progress
    if show is None:
        return None
    last = {"pct": -EVERY_PERCENT, "at": 0.0}

    def step(done: int, total: int) -> None:
        pct = min(99, done * 100 // max(total, 1))
        now = time.monotonic()
        if pct == last["pct"] or (pct - last["pct"] < EVERY_PERCENT and now - last["at"] < EVERY_SECONDS):
            return
        last.update(pct=pct, at=now)
        show(cards.progress_reply(ctx, name, done, total, kind))

    return step


def checking(ctx: Ctx, name: str) -> Callable[[int], None] | None:
    """Rows checked so far, to the chat at most every `EVERY_SECONDS` (a big file takes a while)."""
    show = ctx.progress
    if show is None:
        return None
    last = {"at": 0.0}

    def step(rows: int) -> None:
        now = time.monotonic()
        if rows >= CHECKING_FROM and now - last["at"] >= EVERY_SECONDS:
            last["at"] = now
            show(cards.checking_reply(ctx, name, rows))

    return step


def _check(ctx: Ctx, att: Attachment, args: str) -> Reply:
    rest, owner = split_owner(strip_verb(args))
    kind = split_kind(rest)[1]
    checked = import_chat.check_upload(ctx, att, owner_name=owner, kind=kind, progress=checking(ctx, att.name))
    return cards.check_reply(ctx, checked)


def _console_file(ctx: Ctx, args: str) -> Reply:
    """`/import [KIND] PATH [owner:NAME]` in the console: a file on this computer."""
    rest, owner = split_owner(args)
    rest, kind = split_kind(rest)
    path = Path(rest.strip().strip("'\"")).expanduser()
    if not path.is_file():
        raise InvalidInput("import.err.no_file", name=str(path)[:200])
    checked = import_chat.check_upload(ctx, Attachment(name=path.name, size=path.stat().st_size, path=str(path)),
                                       owner_name=owner, kind=kind, progress=checking(ctx, path.name))
    return cards.check_reply(ctx, checked)


@command("import", aliases=("导入",), roles=import_chat.ROLES)
def cmd_import(ctx: Ctx, args: str) -> Reply:
    if ctx.attachment is not None:
        return _check(ctx, ctx.attachment, args)
    words = args.split()
    if len(words) == 2 and words[0].lower() in (*SUB, "cancel"):
        key = words[1]
        if words[0].lower() == "cancel":
            item = import_chat.cancel_import(ctx, key)
            return cards.cancelled_reply(ctx, item.name) if item else _done_before(ctx)
        waiting = import_chat.kept(ctx, key)
        item, report = import_chat.run_import(ctx, key, only_good=SUB[words[0].lower()],
                                              progress=throttled(ctx, waiting.name, waiting.kind))
        return cards.done_reply(ctx, item.name, report, item.kind) if report else _done_before(ctx)
    if ctx.platform == "console" and split_kind(args)[0]:
        return _console_file(ctx, args)
    return cards.how_reply(ctx)


def _done_before(ctx: Ctx) -> Reply:
    return Reply(views=(Text(ctx.t("import.err.done")),))
