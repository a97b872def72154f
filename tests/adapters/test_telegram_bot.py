"""The Telegram bot end to end against the fake Bot API: the real PTB Application in polling mode."""

from __future__ import annotations

import html

from sqlmodel import Session, select

from handlers import actions
from handlers.i18n import t
from handlers.router import Core
from storage.models import DialogState, Setting
from tests.adapters.telegram_fixtures import *  # noqa: F403
from tests.adapters.telegram_fixtures import ALICE, BOB, SERVICE, STRANGER
from tests.fakes.telegram_harness import running_bot


def plain(call) -> str:  # noqa: ANN001
    return html.unescape(call["text"].replace("<b>", "").replace("</b>", "").replace("<i>", "").replace("</i>", ""))


def test_help_answers_staff_in_html_in_their_language(tg_core, fake) -> None:
    with running_bot(tg_core, fake):
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/help")
        fake.push_message(chat_id=BOB, user_id=BOB, text="/help@crm_test_bot", lang="en")
        [a] = fake.wait_sent(ALICE)
        [b] = fake.wait_sent(BOB)
    assert a["parse_mode"] == "HTML"
    assert t("en", "help.title") in plain(a) and "/lang" in a["text"]
    assert t("zh", "help.title") in plain(b)  # bob's staff language wins over his client's


def test_stranger_gets_polite_answer_and_start_token_passes_through(tg_core, fake) -> None:
    with running_bot(tg_core, fake):
        fake.push_message(chat_id=STRANGER, user_id=STRANGER, text="/start abcDEF123_-")
        fake.push_message(chat_id=STRANGER, user_id=STRANGER, text="/tickets")
        fake.push_message(chat_id=STRANGER, user_id=STRANGER, text="hello?")
        msgs = fake.wait_sent(STRANGER, 3)
    assert plain(msgs[0]) == t("en", "inv.invalid")  # a bad invite: a short, polite answer
    assert all(plain(m) == t("en", "auth.stranger") for m in msgs[1:])
    assert not any(m.get("reply_markup") for m in msgs)


def test_dialog_step_by_step_with_buttons_and_escaping(tg_core, fake) -> None:
    with running_bot(tg_core, fake):
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/tgtest_dialog")
        [first] = fake.wait_sent(ALICE)
        assert "tgtest.kind" in first["text"]
        assert [b["text"] for b in first.buttons][:3] == ["Apples <&> pears", "Bananas", "中文选项"]
        assert all(len(b["callback_data"].encode()) <= 64 for b in first.buttons)
        fake.press(first, "Apples")
        [second] = fake.wait_sent(ALICE, after=1)
        assert "tgtest.note" in second["text"]
        assert fake.wait_for(lambda: fake.calls_of("answerCallbackQuery"))[0].get("show_alert") in (None, False)
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="<b>bold</b> & <script>x</script>")
        [third] = fake.wait_sent(ALICE, after=2)
        assert "tgtest.prio" in third["text"]
        fake.press(third, t("en", "dlg.skip"))
        [done] = fake.wait_sent(ALICE, after=3)
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;" in done["text"]
    assert "apple" in done["text"] and "None" in done["text"]
    assert len(fake.calls_of("answerCallbackQuery")) == 2


def test_cancel_ends_a_dialog(tg_core, fake, tg_engine) -> None:
    with running_bot(tg_core, fake):
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/tgtest_dialog")
        fake.wait_sent(ALICE)
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/cancel")
        [bye] = fake.wait_sent(ALICE, after=1)
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/cancel")
        [again] = fake.wait_sent(ALICE, after=2)
    assert plain(bye) == t("en", "dlg.cancelled")
    assert plain(again) == t("en", "dlg.nothing_to_cancel")
    with Session(tg_engine) as s:
        assert s.exec(select(DialogState)).all() == []


def test_dialog_resumes_after_restart(tg_core, fake, tg_engine, settings, clock) -> None:
    with running_bot(tg_core, fake):
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/tgtest_dialog")
        fake.wait_sent(ALICE)
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="banana")
        fake.wait_sent(ALICE, after=1)
    # a new process: a new core and a new Application on the same database
    core2 = Core(tg_engine, settings, secret=b"tg-test-secret", clock=clock, channels={"telegram": str(SERVICE)})
    with running_bot(core2, fake):
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="after the restart")
        [third] = fake.wait_sent(ALICE, after=2)
        assert "tgtest.prio" in third["text"]
        fake.press(third, "high")
        [done] = fake.wait_sent(ALICE, after=3)
    assert "banana" in done["text"] and "after the restart" in done["text"] and "high" in done["text"]


def test_long_text_and_big_list_are_split(tg_core, fake) -> None:
    with running_bot(tg_core, fake):
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/tgtest_long 10000")
        fake.wait_for(lambda: fake.pending_updates() == 0 and len(fake.sent(ALICE)) >= 3)
        n_long = len(fake.sent(ALICE))
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/tgtest_list 300")
        fake.wait_for(lambda: sum(len(c.buttons) for c in fake.sent(ALICE)[n_long:]) == 301)
        lists = fake.sent(ALICE)[n_long:]
    assert n_long >= 3 and len(lists) >= 3
    for c in fake.sent(ALICE):
        assert len(html.unescape(c["text"])) <= 4096
        assert len(c.buttons) <= 100
        assert all(len(row) <= 8 for row in c.get("reply_markup", {}).get("inline_keyboard", []))
    assert all(c.get("reply_markup") for c in lists)  # every part of the list carries its items' buttons
    assert "&lt;1&gt;" in lists[0]["text"]


def test_forged_foreign_and_expired_buttons_get_an_alert_and_change_nothing(tg_core, fake, clock) -> None:
    other = actions.encode("/tgtest_count", scope=f"c:{BOB}", secret=b"tg-test-secret", now=clock())
    mine = actions.encode("/tgtest_count", scope=f"c:{ALICE}", secret=b"tg-test-secret", now=clock())
    with running_bot(tg_core, fake):
        fake.push_callback(chat_id=ALICE, user_id=ALICE, data="/tgtest_count|zzzz|AAAAAAAAAA")
        fake.push_callback(chat_id=ALICE, user_id=ALICE, data=other)  # bob's button replayed in alice's chat
        fake.push_callback(chat_id=ALICE, user_id=ALICE, data="x" * 64)
        answers = fake.wait_for(lambda: len(a := fake.calls_of("answerCallbackQuery")) == 3 and a)
        clock.advance(days=40)
        fake.push_callback(chat_id=ALICE, user_id=ALICE, data=mine)
        expired = fake.wait_for(lambda: len(a := fake.calls_of("answerCallbackQuery")) == 4 and a[3])
    assert all(a["show_alert"] is True and a["text"] == t("en", "button.invalid") for a in answers)
    assert expired["show_alert"] is True and expired["text"] == t("en", "button.expired")
    assert fake.sent(ALICE) == []
    with Session(tg_core.engine) as s:
        assert s.get(Setting, "tgtest_counter") is None


def test_redelivered_update_is_processed_once(tg_core, fake) -> None:
    update = fake.message_update(chat_id=ALICE, user_id=ALICE, text="/tgtest_count")
    with running_bot(tg_core, fake):
        fake.push_update(update)
        fake.wait_sent(ALICE)
    with running_bot(tg_core, fake):  # a crash before the ack: Telegram sends it again
        fake.redeliver(update)
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/tgtest_count")
        fake.wait_sent(ALICE, 2)
    assert [plain(c) for c in fake.sent(ALICE)] == ["count=1", "count=2"]


def test_other_bots_commands_and_non_text_messages(tg_core, fake) -> None:
    photo = fake.message_update(chat_id=ALICE, user_id=ALICE, text="x")
    del photo["message"]["text"]
    photo["message"]["photo"] = [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]
    with running_bot(tg_core, fake):
        fake.push_message(chat_id=SERVICE, user_id=ALICE, text="/help@other_bot")
        fake.push_update(photo)
        [m] = fake.wait_sent(ALICE)
        fake.push_message(chat_id=SERVICE, user_id=ALICE, text="/help@crm_test_bot")
        fake.wait_sent(SERVICE)
    assert plain(m) == t("en", "tg.unsupported")
    assert len(fake.sent(SERVICE)) == 1


def test_paging_button_edits_the_list_in_place(tg_core, fake) -> None:
    with running_bot(tg_core, fake):
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/tgtest_list 3")
        [page1] = fake.wait_sent(ALICE)
        assert t("en", "list.page", page=1, pages=2, total=6) in page1["text"]  # the core labels lists
        fake.press(page1, t("en", "list.next"))
        [edit] = fake.wait_for(lambda: fake.calls_of("editMessageText"))
        assert edit["message_id"] == page1.result["message_id"] and t("en", "list.page", page=2, pages=2, total=6) in edit["text"]
        assert [b["text"] for b in edit.buttons][-1] == t("en", "list.prev")
        fake.push_callback(chat_id=ALICE, user_id=ALICE, data=edit.buttons[-1]["callback_data"], message_id=999)
        [fresh] = fake.wait_sent(ALICE, after=1)  # that message is gone: the page comes as a new one
    assert t("en", "list.page", page=1, pages=2, total=6) in fresh["text"]
    assert len(fake.calls_of("answerCallbackQuery")) == 2


def test_one_chats_updates_keep_their_order(tg_core, fake) -> None:
    with running_bot(tg_core, fake):
        for _ in range(6):
            fake.push_message(chat_id=ALICE, user_id=ALICE, text="/tgtest_count")
        fake.push_message(chat_id=BOB, user_id=BOB, text="/help")
        msgs = fake.wait_sent(ALICE, 6)
        fake.wait_sent(BOB)
    assert [m["text"] for m in msgs] == [f"count={i}" for i in range(1, 7)]
