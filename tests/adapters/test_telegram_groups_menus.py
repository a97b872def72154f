"""Telegram details found in review: group chatter, strangers' button presses, invite links from getMe,
de-duplication keys per bot, and command menus that follow language switches and deactivation."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlmodel import Session, select

from handlers.i18n import t
from storage.models import ChatBinding, ProcessedUpdate
from tests import factories
from tests.adapters.telegram_fixtures import *  # noqa: F403
from tests.adapters.telegram_fixtures import ALICE, BOB, SERVICE, STRANGER
from tests.fakes.telegram_harness import running_bot

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PTB's RetryAfter.retry_after


def plain(call) -> str:  # noqa: ANN001
    return html.unescape(re.sub(r"</?[bi]>", "", call["text"]))


def test_group_chatter_is_ignored_but_a_dialog_in_the_group_goes_on(tg_core, fake) -> None:
    with running_bot(tg_core, fake, service_chat=str(SERVICE)):
        fake.push_message(chat_id=SERVICE, user_id=ALICE, text="thanks, I'll call them")  # chatter: silence
        fake.push_message(chat_id=SERVICE, user_id=STRANGER, text="who is on duty today?")  # silence too
        fake.push_message(chat_id=SERVICE, user_id=ALICE, text="/tgtest_dialog@crm_test_bot")
        [first] = fake.wait_sent(SERVICE)
        fake.push_message(chat_id=SERVICE, user_id=BOB, text="banana")  # bob has no dialog here: silence
        fake.push_message(chat_id=SERVICE, user_id=ALICE, text="banana")  # alice answers her own question
        [second] = fake.wait_sent(SERVICE, after=1)
        fake.push_message(chat_id=SERVICE, user_id=ALICE, text="/help@crm_test_bot")
        [helped] = fake.wait_sent(SERVICE, after=2)
    assert "tgtest.kind" in first["text"] and "tgtest.note" in second["text"]
    assert t("en", "help.title") in plain(helped)
    assert len(fake.sent(SERVICE)) == 3


def test_a_stranger_pressing_a_button_in_the_group_gets_an_alert_only(tg_core, fake) -> None:
    with running_bot(tg_core, fake, service_chat=str(SERVICE)):
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/tgtest_post 5")
        [post] = fake.wait_sent(SERVICE)
        fake.press(post, "Take it", user_id=STRANGER)
        [answer] = fake.wait_for(lambda: fake.calls_of("answerCallbackQuery"))
    assert answer["show_alert"] is True and answer["text"] == t("en", "auth.stranger")[:200]
    assert len(fake.sent(SERVICE)) == 1 and not fake.calls_of("editMessageText")


def test_invite_link_uses_the_bot_username_from_getme_and_binds(tg_core, fake, tg_engine) -> None:
    assert not tg_core.bot_names.get("telegram")  # TELEGRAM_BOT_USERNAME not configured
    with Session(tg_engine) as s:
        factories.customer(s, name="杭州云栖科技有限公司", contact="张伟")
        s.commit()
    with running_bot(tg_core, fake):
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/customer invite 云栖")
        [inv] = fake.wait_sent(ALICE)
        link = re.search(r"https://t\.me/crm_test_bot\?start=([A-Za-z0-9_-]{1,64})", plain(inv))
        assert link, plain(inv)
        fake.push_message(chat_id=STRANGER, user_id=STRANGER, text=f"/start {link.group(1)}", lang="zh")
        [welcome] = fake.wait_sent(STRANGER)
        fake.push_message(chat_id=STRANGER, user_id=STRANGER, text="/help", lang="zh")
        [helped] = fake.wait_sent(STRANGER, after=1)
    assert "张伟" in plain(welcome)
    assert t("zh", "help.cust.tickets") in plain(helped) and t("zh", "help.more_customer") in plain(helped)
    assert "/log" not in helped["text"] and t("zh", "help.tickets") not in plain(helped)
    with Session(tg_engine) as s:
        assert s.exec(select(ChatBinding.chat_ref)).all() == [str(STRANGER)]


def test_dedupe_keys_belong_to_the_bot(tg_core, fake, tg_engine) -> None:
    with running_bot(tg_core, fake):
        uid = fake.push_message(chat_id=ALICE, user_id=ALICE, text="/tgtest_count")
        fake.wait_sent(ALICE)
    bot_id = fake.token.split(":")[0]
    with Session(tg_engine) as s:  # another bot's update with the same update_id is not a duplicate
        assert s.exec(select(ProcessedUpdate.key)).all() == [f"{bot_id}:{uid}"]


def _menus(fake) -> dict:  # noqa: ANN001
    return {(json.dumps(c.get("scope"), sort_keys=True), c.get("language_code")): c["commands"]
            for c in fake.calls_of("setMyCommands")}


def test_customer_menu_speaks_to_customers_and_lang_switch_updates_the_staff_menu(tg_core, fake) -> None:
    with running_bot(tg_core, fake):
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/lang")
        [choose] = fake.wait_sent(ALICE)
        fake.press(choose, "中文")  # by button: the menu follows too
        alice = json.dumps({"chat_id": ALICE, "type": "chat"}, sort_keys=True)
        fake.wait_for(lambda: len([c for c in fake.calls_of("setMyCommands")
                                   if json.dumps(c["scope"], sort_keys=True) == alice]) == 2)
    zh = _menus(fake)[(alice, None)]
    assert {c["description"] for c in zh} == {t("zh", f"help.{c['command']}") for c in zh}
    default = {c["command"]: c["description"] for c in _menus(fake)[(json.dumps({"type": "default"}), None)]}
    assert default["ticket"] == t("en", "help.cust.ticket") and default["tickets"] == t("en", "help.cust.tickets")
    assert {"customer", "log", "report"}.isdisjoint(default)


def test_a_deactivated_staff_members_menu_is_removed(tg_core, fake, tg_engine) -> None:
    with Session(tg_engine) as s:
        factories.staff(s, name="carl", role="rep", telegram_id=4242, active=False)
        s.commit()
    with running_bot(tg_core, fake):
        pass
    [gone] = fake.calls_of("deleteMyCommands")
    assert gone["scope"] == {"type": "chat", "chat_id": 4242}
    assert not [c for c in fake.calls_of("setMyCommands") if c["scope"].get("chat_id") == 4242]


def test_a_failed_callback_answer_does_not_lose_the_reply(tg_core, fake) -> None:
    with running_bot(tg_core, fake):
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/tgtest_dialog")
        [first] = fake.wait_sent(ALICE)
        fake.fail_next("answerCallbackQuery", status=429, retry_after=1)
        fake.press(first, "Bananas")
        [second] = fake.wait_sent(ALICE, after=1)
    assert "tgtest.note" in second["text"]
    assert len(fake.sent(ALICE)) == 2  # no "something went wrong" on top
