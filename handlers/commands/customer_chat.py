"""What a customer's chat can do besides /ticket and /tickets: /start (bind by invite), /rate (buttons), and
plain text, which opens a ticket with that text as the description."""

from __future__ import annotations

import handlers.dialogs.rating  # noqa: F401 - registers the rating comment dialog
from handlers.commands import PLAIN_TEXT_HOOKS, command
from handlers.context import Ctx
from handlers.dialogs import engine as dialogs
from handlers.errors import InvalidInput
from handlers.services import invites, ratings
from handlers.services.tickets import open_tickets_for_customer
from handlers.views import Action, Button, Buttons, Reply, Text


@command("start", audience="anyone", hidden=True)
def cmd_start(ctx: Ctx, args: str) -> Reply:
    token = args.strip()
    if ctx.staff is not None:
        if token:
            return Reply(views=(Text(ctx.t("inv.staff_no_bind")),))
        from handlers.commands.core import cmd_help

        return cmd_help(ctx, "")
    if token:
        return invites.redeem(ctx, token)
    if ctx.binding is not None:
        from handlers.commands.core import cmd_help

        return cmd_help(ctx, "")
    return Reply(views=(Text(ctx.t("auth.stranger")),))


@command("rate", aliases=("评价",), audience="customer", hidden=True)
def cmd_rate(ctx: Ctx, args: str) -> Reply:
    code, _, n = args.strip().partition(" ")
    if not code or not n.strip():
        raise InvalidInput("rate.usage")
    t = ratings.rate(ctx, code, ratings.parse_stars(n))
    r = Reply(views=(Text(ctx.t("rate.thanks", n=t.rating)),))
    return r + dialogs.start(ctx, "rating", {"code": t.code})


def new_ticket_from_text(ctx: Ctx, text: str) -> Reply | None:
    """A bound customer writing outside a dialog starts a ticket with that text as the description — or, when
    the company has tickets still open, is asked whether the message belongs to one of them."""
    if ctx.staff is not None or ctx.binding is None or not text.strip():
        return None
    text = text.strip()
    if len(text) > ctx.settings.max_text:  # kept whole or refused, never cut: the customer can send it in two
        raise InvalidInput("err.too_long", max=ctx.settings.max_text)
    open_ones = [t for t in open_tickets_for_customer(ctx.session, ctx.binding.customer_id)][:3]
    if open_ones:
        btns = [Button(ctx.t("tk.btn.add_to", code=t.code), Action(f"/ticket msg {t.code} {text}"))
                for t in open_ones]
        btns.append(Button(ctx.t("tk.btn.new_ticket"), Action(f"/ticket new {text}"), "primary"))
        return Reply(views=(Text(ctx.t("tk.cust_which_ticket")), Buttons(tuple(btns))))
    r = Reply(views=(Text(ctx.t("tk.cust_from_text")),))
    return r + dialogs.start(ctx, "ticket_customer", {"description": text})


PLAIN_TEXT_HOOKS.append(new_ticket_from_text)
