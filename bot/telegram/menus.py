"""The command menus (`setMyCommands`): staff see their verbs, everyone else a short customer list.

Staff menus are set per private chat (`BotCommandScopeChat(<telegram id>)`) in the staff member's language,
for the verbs their role may use (a deactivated member's menu is deleted); the supervisor group (the one
`/setup service` chose, else TELEGRAM_SERVICE_CHAT) gets the staff menu (in the default language, and in
Chinese for Chinese clients; a former service group's menu is deleted); the default scope (customers and strangers) gets the customer verbs in English,
with a Chinese list for clients set to Chinese.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers import commands
from handlers.commands.core import CUSTOMER_HELP
from handlers.i18n import norm_lang, t
from handlers.router import Core

NAME = re.compile(r"^[a-z0-9_]{1,32}$")
ALWAYS = ("cancel",)  # hidden from /help, but /cancel belongs in every menu


@dataclass(frozen=True)
class Menu:
    chat_id: int | str | None  # None: the default scope
    language_code: str | None
    commands: tuple[tuple[str, str], ...]


def _verbs(audiences: tuple[str, ...], role: str | None = None) -> list[commands.Command]:
    commands.load_all()
    out = []
    for c in commands.COMMANDS.values():
        if c.audience not in audiences or not NAME.match(c.verb):
            continue
        if c.hidden and c.verb not in ALWAYS:
            continue
        if role is not None and c.roles is not None and role not in c.roles:
            continue
        out.append(c)
    return out


def _items(cmds: list[commands.Command], lang: str, keys: dict[str, str] | None = None) -> tuple[tuple[str, str], ...]:
    keys = keys or {}
    return tuple((c.verb, t(lang, keys.get(c.verb, c.help_key))[:256] or c.verb) for c in cmds)[:100]


def staff_commands(lang: str, role: str | None = None) -> tuple[tuple[str, str], ...]:
    return _items(_verbs(("staff", "both", "anyone"), role), lang)


def customer_commands(lang: str) -> tuple[tuple[str, str], ...]:
    return _items(_verbs(("customer", "both", "anyone")), lang, CUSTOMER_HELP)


def menus(core: Core, *, service_chat: str = "", default_lang: str = "en") -> list[Menu]:
    """Every menu to set. The supervisor group is the one `/setup service` stored, else `service_chat` (the
    TELEGRAM_SERVICE_CHAT setting)."""
    out = [Menu(None, None, customer_commands("en")), Menu(None, "zh", customer_commands("zh"))]
    service_chat = core.service_channel("telegram") or service_chat
    if service_chat:
        out.append(Menu(service_chat, None, staff_commands(norm_lang(default_lang))))
        out.append(Menu(service_chat, "zh", staff_commands("zh")))
    for tg_id, lang, role, active in core.telegram_staff():  # a deactivated member's own menu is removed (no commands)
        out.append(Menu(int(tg_id), None, staff_commands(norm_lang(lang), role) if active else ()))
    return out
