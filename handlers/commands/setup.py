"""/setup — this chat's id and the service channels; /setup service — this chat becomes the service channel
(admins)."""

from __future__ import annotations

from handlers.cards import setup as cards
from handlers.commands.registry import command
from handlers.context import Ctx
from handlers.errors import InvalidInput
from handlers.services import setup as setup_svc
from handlers.views import Reply
from storage.repos import settings as settings_repo


@command("setup", aliases=("设置",), roles=("admin",))
def cmd_setup(ctx: Ctx, args: str) -> Reply:
    sub = args.strip().lower()
    if sub in ("service", "服务"):
        return cards.service_taken(ctx, setup_svc.take_service_channel(ctx))
    if sub:
        raise InvalidInput("usage.setup")
    return cards.setup_card(ctx, settings_repo.service_channels(ctx.session))
