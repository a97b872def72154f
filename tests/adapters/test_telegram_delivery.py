"""Outbound delivery on Telegram: the outbox transport, edits in place, flood control, errors, files,
command menus, webhook mode and the CLI."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from sqlmodel import Session, select

from bot.telegram.app import Webhook
from bot.telegram.limiter import BULK, Limiter
from handlers.i18n import t
from storage.models import Outbox
from tests.adapters.telegram_fixtures import *  # noqa: F403
from tests.adapters.telegram_fixtures import ALICE, BOB, SERVICE
from tests.fakes.telegram_harness import running_bot

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def rows(engine) -> list[Outbox]:  # noqa: ANN001
    with Session(engine) as s:
        return list(s.exec(select(Outbox).order_by(Outbox.id)))


def test_service_post_is_sent_with_buttons_and_edited_in_place(tg_core, fake) -> None:
    with running_bot(tg_core, fake, service_chat=str(SERVICE)):
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/tgtest_post 7")
        [post] = fake.wait_sent(SERVICE)
        assert "Ticket 7 &lt;new&gt;" in post["text"] and "&lt;b&gt;bold" in post["text"]
        token = post.buttons[0]["callback_data"]
        assert len(token.encode()) <= 64
        fake.push_callback(chat_id=BOB, user_id=BOB, data=token)  # replayed in another chat: refused
        refused = fake.wait_for(lambda: fake.calls_of("answerCallbackQuery"))[0]
        assert refused["show_alert"] is True
        fake.press(post, "Take it", user_id=BOB)  # pressed in the supervisor group
        [edit] = fake.wait_for(lambda: fake.calls_of("editMessageText"))
    assert edit["chat_id"] == SERVICE and edit["message_id"] == post.result["message_id"]
    assert f"Taken by {BOB}" in edit["text"] and "reply_markup" not in edit.params
    assert fake.messages[(SERVICE, post.result["message_id"])]["text"] == edit["text"]
    assert [c["text"] for c in fake.sent(SERVICE)][1:] == ["taken"]  # the presser's own answer
    assert [r.status for r in rows(tg_core.engine)] == ["sent", "sent"]


def test_outbox_posts_take_the_bulk_limit_and_replies_only_their_chats(tg_core, fake, monkeypatch) -> None:
    seen = []
    real = Limiter.process_request

    async def spy(self, callback, args, kwargs, endpoint, data, rate_limit_args):  # noqa: ANN001, ANN202
        if endpoint == "sendMessage":
            seen.append((str(data.get("chat_id")), rate_limit_args))
        return await real(self, callback, args, kwargs, endpoint, data, rate_limit_args)

    monkeypatch.setattr(Limiter, "process_request", spy)
    with running_bot(tg_core, fake, service_chat=str(SERVICE)):
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/tgtest_post 7")
        fake.wait_sent(SERVICE)
        fake.push_message(chat_id=BOB, user_id=BOB, text="/tgtest_count")
        fake.wait_sent(BOB)
    assert (str(SERVICE), BULK) in seen and (str(BOB), None) in seen
    assert {rl for chat, rl in seen if chat == str(SERVICE)} == {BULK}  # the outbox's post
    assert {rl for chat, rl in seen if chat == str(BOB)} == {None}  # a reply


def test_a_429_on_a_reply_is_waited_out_and_retried(tg_core, fake) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=1)
    with running_bot(tg_core, fake):
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/tgtest_count")
        [m] = fake.wait_sent(ALICE)
    assert m["text"] == "count=1"
    assert len(fake.calls_of("sendMessage", chat_id=ALICE)) == 2


def test_outbox_row_that_keeps_failing_stays_for_later(tg_core, fake, clock) -> None:
    with running_bot(tg_core, fake) as tb:
        fake.fail_next("sendMessage", status=429, retry_after=1, times=2, chat_id=SERVICE)
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/tgtest_post 8")
        fake.wait_for(lambda: (r := rows(tg_core.engine)) and r[0].status == "pending" and r[0].attempts == 1)
        [row] = rows(tg_core.engine)
        assert "retry" in (row.last_error or "").lower()
        clock.advance(seconds=5)
        assert tb.sender.drain() == 1
        [post] = fake.wait_sent(SERVICE)
    assert [r.status for r in rows(tg_core.engine)] == ["sent"]
    assert post.buttons


@pytest.mark.parametrize("status, outcome", [(403, "failed"), (400, "failed"), (500, "pending")])
def test_outbox_errors_map_to_permanent_or_transient(tg_core, fake, status, outcome) -> None:
    with running_bot(tg_core, fake) as tb:
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/tgtest_post 9")
        fake.wait_sent(ALICE)
        fake.wait_for(lambda: rows(tg_core.engine) and rows(tg_core.engine)[0].status == "sent")
        # a 5xx is tried again in place twice (bot.telegram.limiter) before the outbox backs off
        fake.fail_next("sendMessage", status=status, chat_id=SERVICE, times=3 if status >= 500 else 1)
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/tgtest_post 10")
        fake.wait_for(lambda: len(r := rows(tg_core.engine)) == 2 and r[1].attempts == 1
                      and r[1].status != "sending")
        tb.sender.stop()
    row = rows(tg_core.engine)[1]
    assert row.status == outcome and row.last_error


def test_files_go_as_document_or_photo(tg_core, fake, tmp_path) -> None:
    xlsx, png = tmp_path / "export.xlsx", tmp_path / "chart.png"
    xlsx.write_bytes(b"PK\x03\x04 fake xlsx")
    png.write_bytes(b"\x89PNG fake")
    with running_bot(tg_core, fake):
        fake.push_message(chat_id=ALICE, user_id=ALICE, text=f"/tgtest_file {xlsx}")
        fake.push_message(chat_id=ALICE, user_id=ALICE, text=f"/tgtest_file {png}")
        [doc] = fake.wait_for(lambda: fake.calls_of("sendDocument"))
        [photo] = fake.wait_for(lambda: fake.calls_of("sendPhoto"))
    assert doc.files["document"] == xlsx.read_bytes() and doc["caption"] == "Export <1>"
    assert photo.files["photo"] == png.read_bytes()


def test_command_menus_per_scope_and_language(tg_core, fake) -> None:
    with running_bot(tg_core, fake, service_chat=str(SERVICE)):
        pass
    menus = {(json.dumps(c.get("scope"), sort_keys=True), c.get("language_code")): c["commands"]
             for c in fake.calls_of("setMyCommands")}
    default = menus[(json.dumps({"type": "default"}), None)]
    assert {c["command"] for c in default} >= {"help", "lang", "cancel"}
    assert not any(c["command"].startswith("tgtest") for cmds in menus.values() for c in cmds)
    zh = menus[(json.dumps({"type": "default"}), "zh")]
    keys = {"ticket": "help.cust.ticket", "tickets": "help.cust.tickets"}  # customers' own words for these
    assert {c["description"] for c in zh} == {t("zh", keys.get(c["command"], f"help.{c['command']}")) for c in zh}
    bob = menus[(json.dumps({"chat_id": BOB, "type": "chat"}, sort_keys=True), None)]
    assert {c["description"] for c in bob} == {t("zh", f"help.{c['command']}") for c in bob}
    assert (json.dumps({"chat_id": SERVICE, "type": "chat"}, sort_keys=True), None) in menus
    for cmds in menus.values():
        assert all(re.fullmatch(r"[a-z0-9_]{1,32}", c["command"]) and 0 < len(c["description"]) <= 256
                   for c in cmds)


def test_api_url_already_ending_in_bot(tg_core, fake) -> None:
    with running_bot(tg_core, fake, api_url=fake.root + "/bot/"):
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/help")
        assert fake.wait_sent(ALICE)


def test_webhook_checks_the_secret_and_dedupes(tg_core, fake) -> None:
    hook = Webhook(url="https://bot.example.test/tg/hook", port=0, listen="127.0.0.1", secret="s3cret_-X")
    update = fake.message_update(chat_id=ALICE, user_id=ALICE, text="/tgtest_count")
    with running_bot(tg_core, fake, webhook=hook) as tb:
        assert fake.webhook["url"] == hook.url and fake.webhook["secret_token"] == "s3cret_-X"
        url = f"http://127.0.0.1:{tb.webhook_port}/tg/hook"
        wrong = httpx.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
        missing = httpx.post(url, json=update)
        assert (wrong.status_code, missing.status_code) == (403, 403)
        good = {"X-Telegram-Bot-Api-Secret-Token": "s3cret_-X"}
        assert httpx.post(url, content=b"{not json", headers=good).status_code == 400
        assert httpx.post(url, json=update, headers=good).status_code == 200
        assert httpx.post(url, json=update, headers=good).status_code == 200  # Telegram retried
        fake.wait_sent(ALICE)
        next_one = fake.message_update(chat_id=ALICE, user_id=ALICE, text="/tgtest_count")
        assert httpx.post(url, json=next_one, headers=good).status_code == 200
        fake.wait_sent(ALICE, 2)
    assert [c["text"] for c in fake.sent(ALICE)] == ["count=1", "count=2"]
    assert not fake.calls_of("getUpdates")


def test_webhook_refuses_malformed_bodies_with_one_line_and_no_traceback(tg_core, fake, caplog) -> None:
    import logging

    hook = Webhook(url="https://bot.example.test/tg", port=0, listen="127.0.0.1", secret="s3cret")
    good = {"X-Telegram-Bot-Api-Secret-Token": "s3cret", "Content-Type": "application/json"}
    with running_bot(tg_core, fake, webhook=hook) as tb:
        url = f"http://127.0.0.1:{tb.webhook_port}/tg"
        caplog.clear()
        caplog.set_level(logging.INFO)
        for body in (b"[]", b"null", b"{", b'{"update_id": "x"}', b'{"message": {}}', b"\xff\xfe",
                     b'{"update_id": 5, "message": "x"}'):
            r = httpx.post(url, content=body, headers=good)
            assert r.status_code == 400, (body, r.status_code)
        assert httpx.post(url, content=b"x" * (2 << 20), headers=good).status_code == 413
        assert httpx.get(f"http://127.0.0.1:{tb.webhook_port}/healthz").status_code == 200
        refusals = [r for r in caplog.records if r.name == "crm.http" and r.levelno >= logging.WARNING]
        assert len(refusals) == 8 and all(r.exc_info is None for r in refusals)
        assert all(r.exc_info is None for r in caplog.records if r.levelno >= logging.WARNING)
    assert not fake.sent(ALICE)


def test_cli_run_telegram_arguments(monkeypatch, tmp_path, capsys) -> None:
    from bot import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/crm.db")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    args = cli.parser().parse_args(["run", "telegram", "--webhook", "--url", "https://x.test/tg", "--port", "88"])
    assert (args.webhook, args.url, args.port) == (True, "https://x.test/tg", 88)
    assert cli.main(["run", "telegram", "--webhook"]) == 2
    assert "--url" in capsys.readouterr().err
    assert cli.main(["run", "telegram"]) == 2
    err = capsys.readouterr().err.strip()
    assert "TELEGRAM_BOT_TOKEN" in err and "\n" not in err


def test_on_postgresql_dedupe_and_outbox_edit(pg_db, settings, clock) -> None:
    from handlers.router import Core
    from tests import factories
    from tests.fakes.telegram_api import FakeTelegram

    engine = pg_db
    fake = FakeTelegram().start()
    try:
        with Session(engine) as s:
            factories.staff(s, name="alice", role="supervisor", telegram_id=ALICE)
            s.commit()
        core = Core(engine, settings, secret=b"pg", clock=clock, channels={"telegram": str(SERVICE)})
        update = fake.message_update(chat_id=ALICE, user_id=ALICE, text="/tgtest_post 77")
        with running_bot(core, fake, service_chat=str(SERVICE)):
            fake.push_update(update)
            fake.redeliver(update)
            [post] = fake.wait_sent(SERVICE)
            fake.press(post, "Take it", user_id=ALICE)
            [edit] = fake.wait_for(lambda: fake.calls_of("editMessageText"))
        assert edit["message_id"] == post.result["message_id"]
        assert len(fake.sent(ALICE)) == 1 and [r.status for r in rows(engine)] == ["sent", "sent"]
    finally:
        fake.stop()


def test_cli_refused_token_or_unreachable_api_is_one_line(monkeypatch, tmp_path, capsys, fake) -> None:
    from bot import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/crm.db")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake.token)
    monkeypatch.setenv("TELEGRAM_API_URL", fake.root)
    fake.fail_next("getMe", status=401, description="Unauthorized")
    assert cli.main(["run", "telegram"]) == 2
    err = capsys.readouterr().err.strip()
    assert "TELEGRAM_BOT_TOKEN" in err and "\n" not in err and "Traceback" not in err
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:9")  # nothing listens there
    assert cli.main(["run", "telegram"]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot start the Telegram bot" in err and "\n" not in err
