"""Verbs every audience has: /help, /lang, /cancel."""

from __future__ import annotations

from handlers.commands.registry import PLAIN_TEXT_HOOKS, command, lookup, visible_commands
from handlers.context import Ctx
from handlers.dialogs import engine as dialogs
from handlers.dialogs.buttons import ended_button
from handlers.errors import InvalidInput
from handlers.i18n import enum_label, match_enum
from handlers.views import Action, Button, Buttons, Fields, Header, Reply, Text


@command("help", aliases=("帮助", "h", "?"), audience="both", reads=True)
def cmd_help(ctx: Ctx, args: str) -> Reply:
    if args:
        cmd = lookup(args.strip().lstrip("/").split()[0])
        if cmd is not None and cmd in visible_commands(ctx):
            return Reply(views=(Header("/" + cmd.verb), Text(ctx.t(cmd.help_key)),
                                Text(ctx.t(cmd.usage_key), muted=True)))
    cmds = visible_commands(ctx)
    who = ctx.staff.name if ctx.staff else ""
    keys = {} if ctx.staff else CUSTOMER_HELP  # a customer's /ticket is not a queue
    items = tuple(("/" + c.verb, ctx.t(keys.get(c.verb, c.help_key))) for c in cmds)
    tips = (Text(ctx.t(_tip_key(ctx)), muted=True),)
    if ctx.platform == "console":  # how numbers and a notification's n1, n2 … press buttons there
        tips += (Text(ctx.t("help.console"), muted=True),)
    return Reply(views=(Header(ctx.t("help.title")),
                        Text(ctx.t("help.intro_staff", name=who) if ctx.staff else ctx.t("help.intro_customer")),
                        Fields(items), *tips))


def _tip_key(ctx: Ctx) -> str:
    if ctx.staff is None:
        return "help.more_customer"
    return "help.more_service" if ctx.staff.role in ("agent", "supervisor") else "help.more"


# what /ticket and /tickets mean in a customer's chat (/help and the Telegram menu)
CUSTOMER_HELP = {"ticket": "help.cust.ticket", "tickets": "help.cust.tickets"}


@command("lang", aliases=("language", "语言"), audience="both")
def cmd_lang(ctx: Ctx, args: str) -> Reply:
    if not args.strip():
        return Reply(views=(
            Text(ctx.t("lang.current", lang=enum_label(ctx.lang, "lang", ctx.lang))),
            Buttons((Button("English", Action("/lang en")), Button("中文", Action("/lang zh")))),
        ))
    lang = match_enum("lang", args.strip()) or {"english": "en", "chinese": "zh", "中文": "zh", "英文": "en",
                                                "cn": "zh", "zh-cn": "zh"}.get(args.strip().lower())
    if lang is None:
        raise InvalidInput("lang.unknown", value=args.strip())
    if ctx.staff is not None:
        ctx.staff.lang = lang
    elif ctx.binding is not None:
        ctx.binding.lang = lang
    ctx.session.flush()
    ctx.lang = lang
    return Reply(views=(Text(ctx.t("lang.set")),), lang_set=lang)


@command("cancel", aliases=("取消",), audience="both", hidden=True)
def cmd_cancel(ctx: Ctx, args: str) -> Reply:
    if dialogs.clear(ctx):
        return Reply(views=(Text(ctx.t("dlg.cancelled")),))
    return Reply(views=(Text(ctx.t("dlg.nothing_to_cancel")),))


PLAIN_TEXT_HOOKS.insert(0, ended_button)  # first: a dialog button pressed after its dialog ended is no text
