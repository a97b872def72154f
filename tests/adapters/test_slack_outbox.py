"""The Slack transport under the outbox sender: posts, edits in place, 429/5xx/permanent errors, wake-ups."""
# ruff: noqa: F811 - the shared fixtures are imported by name (tests/fakes/slack_fixtures.py)

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.delivery import Permanent, RetryAfter, Transient
from bot.slack.run import start_sender
from handlers import notify
from handlers.views import Action, Button, Buttons, FileRef, Reply, Text
from storage.db import session_scope
from storage.models import Outbox
from tests.fakes.slack_fixtures import slack  # noqa: F401
from tests.fakes.slack_testkit import testkit  # noqa: F401


def post(env, key: str = "k1", text: str = "hello", chat: str = "CSERVICE") -> None:  # noqa: ANN001
    reply = Reply(views=(Text(text), Buttons((Button("Take", Action("/t_take")),))))
    with session_scope(env.engine) as s:
        notify.to_chat(s, platform="slack", chat_ref=chat, key=key, reply=reply, now=env.core.clock())


def rows(env) -> list[Outbox]:  # noqa: ANN001
    with Session(env.engine) as s:
        return list(s.scalars(select(Outbox).order_by(Outbox.id)))


def test_slack_outbox_posts_and_records_the_message_ref(slack):
    post(slack)
    assert slack.drain() == 1
    call = slack.fake.wait("chat.postMessage")[0]
    assert call.args["channel"] == "CSERVICE" and call.args["text"] == "hello"
    assert rows(slack)[0].status == "sent"
    assert rows(slack)[0].message_ref == f"CSERVICE|{call.result['ts']}"


def test_slack_outbox_edit_updates_the_sent_message(slack):
    with session_scope(slack.engine) as s:
        notify.to_service_channel(s, slack.core.channels, key="tk1", reply=Reply(views=(Text("new"),)),
                                  now=slack.core.clock())
    slack.drain()
    first = slack.fake.wait("chat.postMessage")[0]
    with session_scope(slack.engine) as s:
        notify.edit_service_post(s, slack.core.channels, key="tk1", version="2",
                                 reply=Reply(views=(Text("assigned"),)), now=slack.core.clock())
    slack.drain()
    upd = slack.fake.wait("chat.update")[0]
    assert upd.args["ts"] == first.result["ts"] and upd.args["channel"] == "CSERVICE"
    assert upd.args["text"] == "assigned"


def test_slack_outbox_dm_to_a_user_id_is_edited_in_the_dm_channel(slack):
    post(slack, chat="U5")
    slack.drain()
    ref = rows(slack)[0].message_ref
    assert ref.startswith("D5|")


def test_slack_429_is_retried_by_the_client(slack):
    slack.fake.fail("chat.postMessage", status=429)
    post(slack)
    assert slack.drain() == 1
    assert len(slack.fake.calls_to("chat.postMessage")) == 2
    assert rows(slack)[0].status == "sent"


def test_slack_long_retry_after_is_not_slept_but_left_to_the_outbox(slack):
    slack.fake.fail("chat.postMessage", status=429, headers={"Retry-After": "120"})
    post(slack)
    assert slack.drain() == 0  # no 120-second sleep in the sender: the row waits in the outbox instead
    assert len(slack.fake.calls_to("chat.postMessage")) == 1
    row = rows(slack)[0]
    assert row.status == "pending" and row.next_attempt_at >= slack.core.clock() + timedelta(seconds=119)
    slack.core.clock.advance(seconds=121)
    assert slack.drain() == 1 and rows(slack)[0].status == "sent"


def test_slack_429_twice_goes_back_to_the_outbox_with_retry_after(slack):
    slack.fake.fail("chat.postMessage", status=429, times=2, headers={"Retry-After": "0"})
    with pytest.raises(RetryAfter):
        slack.bot.transport.send("C1", Reply(views=(Text("x"),)), scope="c:C1")
    slack.fake.fail("chat.postMessage", status=429, times=2, headers={"Retry-After": "0"})
    post(slack)
    assert slack.drain() == 0
    row = rows(slack)[0]
    assert row.status == "pending" and row.attempts == 1 and "rate limited" in row.last_error
    slack.core.clock.advance(seconds=1)  # the sender waits at least 0.5 s
    assert slack.drain() == 1


def test_slack_5xx_is_transient_and_kept(slack):
    slack.fake.fail("chat.postMessage", status=503, error="service_unavailable")
    with pytest.raises(Transient):
        slack.bot.transport.send("C1", Reply(views=(Text("x"),)), scope="c:C1")
    slack.fake.fail("chat.postMessage", status=500, error="internal_error")
    post(slack)
    slack.drain()
    row = rows(slack)[0]
    assert row.status == "pending" and row.next_attempt_at > slack.core.clock()


def test_slack_permanent_error_marks_the_row_failed_but_keeps_it(slack):
    slack.fake.fail("chat.postMessage", status=200, error="channel_not_found")
    with pytest.raises(Permanent):
        slack.bot.transport.send("CNOPE", Reply(views=(Text("x"),)), scope="c:CNOPE")
    slack.fake.fail("chat.postMessage", status=200, error="not_in_channel")
    post(slack)
    slack.drain()
    row = rows(slack)[0]
    assert row.status == "failed" and "not_in_channel" in row.last_error


def test_slack_refused_blocks_fall_back_to_text(slack):
    slack.fake.fail("chat.postMessage", status=200, error="invalid_blocks")
    ref = slack.bot.transport.send("C1", Reply(views=(Text("x & y"),)), scope="c:C1")
    calls = slack.fake.calls_to("chat.postMessage")
    assert len(calls) == 2 and "blocks" not in calls[1].args and calls[1].args["text"] == "x &amp; y"
    assert ref.startswith("C1|")


def test_slack_file_is_uploaded_with_files_upload_v2(slack, tmp_path):
    f = tmp_path / "export.xlsx"
    f.write_bytes(b"PK\x03\x04 fake xlsx")
    slack.bot.transport.send("C1", Reply(views=(Text("your export"),), file=FileRef(str(f), "export.xlsx")),
                             scope="c:C1")
    slack.fake.wait("files.completeUploadExternal")
    assert slack.fake.calls_to("upload")[0].args["size"] == f.stat().st_size


def test_slack_sender_is_woken_by_the_core_and_posts_within_seconds(slack, testkit):
    sender = start_sender(slack.core, slack.bot, interval=3600)  # only a wake-up can deliver in time
    try:
        slack.staff("sam", slack_id="U2")
        slack.fake.wait("auth.test")
        import time

        time.sleep(0.2)  # the first pass (at start) has run; the next one needs a wake-up
        slack.slack.command("/t_notify", "wake", user="U2")
        call = slack.fake.wait("chat.postMessage", timeout=10)[0]
        assert call.args["channel"] == "CSERVICE"
    finally:
        sender.stop()


def test_slack_socket_mode_handler_uses_the_configured_api(slack):
    from bot.slack.run import socket_handler

    h = socket_handler(slack.bot, "xapp-1-test")
    assert h.client.app_token == "xapp-1-test"
    assert h.client.web_client.base_url == slack.fake.api_url
