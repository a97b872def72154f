"""The supervisor group's staff command menu follows the group an admin chose with `/setup service` (stored in
the database), not only TELEGRAM_SERVICE_CHAT; the former group's menu is removed."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from handlers.router import Core
from tests import factories
from tests.adapters.telegram_fixtures import *  # noqa: F403
from tests.fakes.telegram_harness import running_bot

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PTB's RetryAfter.retry_after

ROOT = 1010
GROUP_A, GROUP_B = -1001111111111, -1002222222222


def _scoped(fake, method: str, chat: int) -> list[dict]:  # noqa: ANN001
    return [c for c in fake.calls_of(method) if (c.get("scope") or {}).get("chat_id") in (chat, str(chat))]


def test_service_group_menu_follows_setup_service(tg_engine, settings, clock, fake) -> None:
    with Session(tg_engine) as s:
        factories.staff(s, name="root", role="admin", telegram_id=ROOT, lang="en")
        s.commit()
    core = Core(tg_engine, settings, secret=b"tg-menu", clock=clock, channels={})  # no TELEGRAM_SERVICE_CHAT
    with running_bot(core, fake, service_chat=""):
        fake.wait_for(lambda: fake.calls_of("setMyCommands"))
        assert not _scoped(fake, "setMyCommands", GROUP_A)
        fake.push_message(chat_id=GROUP_A, user_id=ROOT, text="/setup@crm_test_bot service")
        fake.wait_sent(GROUP_A)
        fake.wait_for(lambda: len(_scoped(fake, "setMyCommands", GROUP_A)) == 2)  # default language and zh
        menu = {c["command"] for c in _scoped(fake, "setMyCommands", GROUP_A)[0]["commands"]}
        assert {"tickets", "ticket", "setup"} <= menu
        fake.push_message(chat_id=GROUP_B, user_id=ROOT, text="/setup@crm_test_bot service")
        fake.wait_sent(GROUP_B)
        fake.wait_for(lambda: len(_scoped(fake, "setMyCommands", GROUP_B)) == 2)
        fake.wait_for(lambda: len(_scoped(fake, "deleteMyCommands", GROUP_A)) == 2)  # the old group: customers' menu
    assert {c.get("language_code") for c in _scoped(fake, "deleteMyCommands", GROUP_A)} == {None, "zh"}


def test_service_group_menu_from_the_database_at_start(tg_engine, settings, clock, fake) -> None:
    """A restart: the stored group (not the env one) gets the staff menu at once."""
    with Session(tg_engine) as s:
        factories.staff(s, name="root", role="admin", telegram_id=ROOT, lang="en")
        s.commit()
    core = Core(tg_engine, settings, secret=b"tg-menu", clock=clock, channels={"telegram": str(GROUP_A)})
    with running_bot(core, fake, service_chat=str(GROUP_A)):
        fake.push_message(chat_id=GROUP_B, user_id=ROOT, text="/setup@crm_test_bot service")
        fake.wait_sent(GROUP_B)
        fake.wait_for(lambda: len(_scoped(fake, "setMyCommands", GROUP_B)) == 2)
    fake.calls.clear()  # the bot is stopped: a restart follows
    with running_bot(core, fake, service_chat=str(GROUP_A)):
        fake.wait_for(lambda: len(_scoped(fake, "setMyCommands", GROUP_B)) == 2)
    assert _scoped(fake, "setMyCommands", GROUP_A) == []  # the env group is not the service group now
