"""The optional comment after a customer's rating (the next message, or Skip). A message that comes more than
`ratings.COMMENT_WINDOW` after the rating is not taken as the comment: it is handled as any plain message."""

from __future__ import annotations

from handlers.context import Ctx
from handlers.dialogs.engine import Dialog, Step, register
from handlers.dialogs.ticket_new import new_ticket_from_text
from handlers.services import ratings
from handlers.views import Reply, Text


def _done(ctx: Ctx, values: dict) -> Reply:
    comment = values.get("comment")
    if comment and ratings.comment_too_late(ctx, values["code"]):
        # hours later this is a new message (a new problem, most likely), not the comment on the rating
        reply = new_ticket_from_text(ctx, comment)
        if reply is not None:
            return reply
    ratings.add_comment(ctx, values["code"], comment)
    return Reply(views=(Text(ctx.t("rate.thanks_final")),))


RATING = register(Dialog(
    name="rating", title_key="rate.dlg.title", on_done=_done, submit_key="rate.dlg.submit", steps=(
        Step("code", "rate.dlg.code"),
        Step("comment", "rate.dlg.comment", optional=True, multiline=True, max_length=1000),
    )))
