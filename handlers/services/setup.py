"""`/setup service`: an admin makes the chat they type in the service (supervisor) channel of its platform.

Stored in the setting table (`storage.repos.settings`), where it overrides SLACK_SERVICE_CHANNEL /
TELEGRAM_SERVICE_CHAT for every message and job from then on (the core and the scheduler read it).
"""

from __future__ import annotations

import json

from sqlalchemy import update

from handlers.context import Ctx
from handlers.errors import InvalidInput
from storage.db import insert_ignore
from storage.models import Setting
from storage.repos import settings as settings_repo


def take_service_channel(ctx: Ctx) -> str | None:
    """This chat becomes the platform's service channel; returns the previous one (None: there was none)."""
    if ctx.platform != "console" and not ctx.is_group:
        raise InvalidInput("setup.err.not_group")
    key, value = settings_repo.SERVICE_CHANNEL + ctx.platform, json.dumps(ctx.chat_ref)
    before = ctx.channels.get(ctx.platform)
    if not insert_ignore(ctx.session, Setting, conflict=["key"], key=key, value=value, updated_at=ctx.now):
        ctx.session.execute(update(Setting).where(Setting.key == key).values(value=value, updated_at=ctx.now)
                            .execution_options(synchronize_session=False))
    ctx.channels[ctx.platform] = ctx.chat_ref  # the rest of this unit of work posts here already
    return before
