"""What a customer's chat can do besides /ticket and /tickets: /start (bind by invite), /rate (buttons), and
plain text, which opens a ticket with that text as the description (`dialogs.ticket_new.new_ticket_from_text`).
Also the invite a staff member creates for a customer's contact (`/customer invite`)."""

from __future__ import annotations

from handlers.cards.service import invite_reply, redeemed_reply
from handlers.cards.staff import staff_redeemed
from handlers.commands.core import cmd_help
from handlers.commands.registry import PLAIN_TEXT_HOOKS, command
from handlers.context import Ctx
from handlers.dialogs import engine as dialogs
from handlers.dialogs import rating as rating_dialog  # noqa: F401 - registers the rating comment dialog
from handlers.dialogs.ticket_new import new_ticket_from_text
from handlers.errors import InvalidInput
from handlers.services import invites, ratings, staff_invites
from handlers.views import Reply, Text
from storage.models import Customer


@command("start", audience="anyone", hidden=True)
def cmd_start(ctx: Ctx, args: str) -> Reply:
    token = args.strip()
    if ctx.staff is not None:
        if token:
            return Reply(views=(Text(ctx.t("inv.staff_no_bind")),))
        return cmd_help(ctx, "")
    if token:
        mine = staff_invites.redeem(ctx, token)  # a staff invite, else a customer's
        if mine is not None:
            return staff_redeemed(ctx, *mine)
        r = invites.redeem(ctx, token)
        return redeemed_reply(ctx, r.outcome, customer=r.customer, contact=r.contact)
    if ctx.binding is not None:
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


def create_invite(ctx: Ctx, customer: Customer, contact_name: str | None) -> Reply:
    """Staff who can see the customer create an invite; the reply shows the deep link and the /start line."""
    i = invites.issue_invite(ctx, customer, contact_name)
    return invite_reply(ctx, i.invite, i.token, customer=i.customer, contact=i.contact)


PLAIN_TEXT_HOOKS.append(new_ticket_from_text)
