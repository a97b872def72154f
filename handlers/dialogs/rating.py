"""The optional comment after a customer's rating (the next message, or Skip)."""

from __future__ import annotations

from handlers.context import Ctx
from handlers.dialogs.engine import Dialog, Step, register
from handlers.views import Reply, Text


def _done(ctx: Ctx, values: dict) -> Reply:
    from handlers.services import ratings

    ratings.add_comment(ctx, values["code"], values.get("comment"))
    return Reply(views=(Text(ctx.t("rate.thanks_final")),))


RATING = register(Dialog(
    name="rating", title_key="rate.dlg.title", on_done=_done, submit_key="rate.dlg.submit", steps=(
        Step("code", "rate.dlg.code"),
        Step("comment", "rate.dlg.comment", optional=True, multiline=True, max_length=1000),
    )))
