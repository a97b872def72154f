"""`/setup` views: this chat's id and the service channels; the confirmation of `/setup service`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.views import Fields, Header, Reply, Text

if TYPE_CHECKING:
    from handlers.context import Ctx


def setup_card(ctx: Ctx, stored: dict[str, str]) -> Reply:
    """Where the service channels are (stored in chat, or from the env) and this chat's id."""
    rows = tuple((p, ctx.t("setup.from_chat" if p in stored else "setup.from_env", chat=c))
                 for p, c in sorted(ctx.channels.items()))
    return Reply(views=(Header(ctx.t("setup.title")),
                        Text(ctx.t("setup.this_chat", platform=ctx.platform, chat=ctx.chat_ref)),
                        Fields(rows or ((ctx.t("setup.none"), ""),)),
                        Text(ctx.t("setup.hint"), muted=True)))


def service_taken(ctx: Ctx, before: str | None) -> Reply:
    """Posted in the chat that is now the service channel (everyone there sees it)."""
    views = [Text(ctx.t("setup.service_done", platform=ctx.platform))]
    if before and before != ctx.chat_ref:
        views.append(Text(ctx.t("setup.service_before", chat=before), muted=True))
    return Reply(views=tuple(views), public=True, menus_changed=True)
