"""/me (/settings on Slack) — the caller's own settings; /me tz=… reminder=HH:MM lang=en|zh notify=slack|telegram changes them."""

from __future__ import annotations

from handlers.cards import staff as cards
from handlers.commands.registry import command
from handlers.context import Ctx
from handlers.services import staff_edit
from handlers.views import Reply


@command("settings", aliases=("me", "我", "我的设置"))  # Slack keeps /me for itself: /settings there
def cmd_me(ctx: Ctx, args: str) -> Reply:
    if not args.strip():
        return cards.my_settings(ctx, ctx.staff)
    changed = staff_edit.edit(ctx, ctx.staff, args, self_service=True)
    card = cards.my_settings(ctx, ctx.staff)
    return Reply(views=(cards.edited(ctx, ctx.staff, changed),) + card.views[:2])
