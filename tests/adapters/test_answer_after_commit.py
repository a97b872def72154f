"""A saved action is never reported as failed: when the answer to a committed action cannot be sent (Telegram
500/502, a 429 with a long retry_after; Slack's response_url or chat.update failing), it goes to the outbox and
arrives later. The action happened once, and nobody is told to try again."""
# ruff: noqa: F811 - the shared fixtures are imported by name (tests/fakes/slack_fixtures.py)

from __future__ import annotations

import json
import time

import pytest
from sqlmodel import Session, select

from handlers.i18n import t
from storage.db import session_scope
from storage.models import FollowUp, Outbox
from tests import factories as f
from tests.adapters.telegram_fixtures import *  # noqa: F403
from tests.fakes.slack_api import labels
from tests.fakes.slack_fixtures import slack  # noqa: F401
from tests.fakes.slack_testkit import t_count, testkit  # noqa: F401
from tests.fakes.telegram_harness import running_bot
from tests.says import lead

RAY = 7007
OOPS = t("en", "err.internal", ref="X").split("(")[0]  # "Something went wrong "


def followups(engine) -> int:  # noqa: ANN001
    with Session(engine) as s:
        return len(s.exec(select(FollowUp)).all())


def outbox_rows(engine) -> list[Outbox]:  # noqa: ANN001
    with Session(engine) as s:
        return list(s.exec(select(Outbox).order_by(Outbox.id)))


def a_customer_of_ray(engine, **ids: object) -> str:  # noqa: ANN001
    with session_scope(engine) as s:
        ray = f.staff(s, name="ray", role="rep", **ids)  # type: ignore[arg-type]
        return f.customer(s, name="Acme Cloud", owner=ray).code


# ---------------------------------------------------------------- Telegram


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_telegram_answer_that_fails_with_5xx_arrives_through_the_outbox(tg_core, fake, clock):
    code = a_customer_of_ray(tg_core.engine, telegram_id=RAY)
    fake.fail_next("sendMessage", status=500, chat_id=RAY, times=3)  # the answer and its two retries in place
    fake.fail_next("sendMessage", status=502, chat_id=RAY, times=3)  # the outbox's first attempt fails too
    with running_bot(tg_core, fake) as tb:
        fake.push_message(chat_id=RAY, user_id=RAY, text=f"/log {code} phone: renewal talk")
        fake.wait_for(lambda: (r := outbox_rows(tg_core.engine)) and r[0].attempts == 1
                      and r[0].status == "pending")  # the outbox's first attempt got the 502
        clock.advance(seconds=10)  # past the outbox's backoff
        assert tb.sender.drain() == 1
        [answer] = fake.wait_sent(RAY)
    assert followups(tg_core.engine) == 1
    assert "Acme Cloud" in answer["text"] and OOPS not in answer["text"]
    assert all(OOPS not in c["text"] for c in fake.calls_of("sendMessage"))
    assert [r.status for r in outbox_rows(tg_core.engine)] == ["sent"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_telegram_answer_after_a_long_flood_wait_is_sent_when_the_wait_is_over(tg_core, fake, clock):
    code = a_customer_of_ray(tg_core.engine, telegram_id=RAY)
    fake.fail_next("sendMessage", status=429, retry_after=120, chat_id=RAY)
    with running_bot(tg_core, fake) as tb:
        fake.push_message(chat_id=RAY, user_id=RAY, text=f"/log {code} phone: renewal talk")
        fake.wait_for(lambda: outbox_rows(tg_core.engine))
        assert tb.sender.drain() == 0  # Telegram said to wait two minutes
        clock.advance(seconds=121)
        assert tb.sender.drain() == 1
        [answer] = fake.wait_sent(RAY)
    assert followups(tg_core.engine) == 1
    assert "Acme Cloud" in answer["text"] and len(fake.calls_of("sendMessage", chat_id=RAY)) == 2


# ---------------------------------------------------------------- Slack


def eventually(pred, timeout: float = 10.0):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while not (got := pred()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return got


def shown(call) -> str:  # noqa: ANN001
    return json.dumps(call.blocks, ensure_ascii=False) + str(call.args.get("text", ""))


def test_slack_command_answer_whose_response_url_fails_arrives_in_the_dm(slack):
    code = a_customer_of_ray(slack.engine, slack_id="URAY")
    slack.fake.fail("response_url", status=500, error="internal_error")
    slack.fake.fail("chat.postMessage", status=502, error="service_unavailable")  # the outbox retries this
    assert slack.slack.command("/log", f"{code} phone: renewal talk", user="URAY", channel="C1").status == 200
    slack.fake.wait("response_url")
    eventually(lambda: outbox_rows(slack.engine))
    assert slack.drain() == 0  # a 502: the outbox keeps it
    assert outbox_rows(slack.engine)[0].status == "pending"
    slack.core.clock.advance(seconds=10)
    assert slack.drain() == 1
    answer = slack.fake.wait("chat.postMessage", 2)[1]
    assert answer.args["channel"] == "URAY"  # an ephemeral answer goes to the user's DM, not the channel
    assert "Acme Cloud" in shown(answer) and OOPS not in shown(answer)
    assert followups(slack.engine) == 1


def test_slack_button_answer_whose_update_fails_is_delivered_later(slack, testkit):
    slack.staff("alice", slack_id="U1")
    slack.slack.command("/t_notify", "hello", user="U1")
    slack.fake.wait("response_url")
    slack.drain()
    post = slack.fake.wait("chat.postMessage")[0]
    slack.fake.fail("chat.update", status=500, error="internal_error")
    slack.slack.press(post, "Take", user="U1", channel="CSERVICE")
    slack.fake.wait("chat.update")
    eventually(lambda: outbox_rows(slack.engine)[1:])
    assert slack.drain() == 1
    answer = slack.fake.wait("chat.postMessage", 2)[1]
    assert t_count(slack.engine, "t_take") == 1
    assert "Taken by alice" in shown(answer) and answer.args["channel"] == "CSERVICE"


def test_slack_dm_answer_after_a_long_rate_limit_is_sent_when_the_wait_is_over(slack):
    code = a_customer_of_ray(slack.engine, slack_id="URAY")
    slack.fake.fail("chat.postMessage", status=429, headers={"Retry-After": "90"})  # too long to wait inline
    slack.slack.dm(f"/log {code} phone: renewal talk", user="URAY", channel="DRAY")
    slack.fake.wait("chat.postMessage")
    eventually(lambda: outbox_rows(slack.engine))
    assert slack.drain() == 0  # Slack said to wait a minute and a half
    slack.core.clock.advance(seconds=91)
    assert slack.drain() == 1
    answer = slack.fake.wait("chat.postMessage", 2)[1]
    assert answer.args["channel"] == "DRAY" and "Acme Cloud" in shown(answer)
    assert followups(slack.engine) == 1


def test_slack_answer_to_a_button_in_a_modal_whose_update_fails_arrives_in_the_dm(slack, testkit):
    slack.staff("alice", slack_id="U1")
    slack.slack.command("/t_big", user="U1", channel="C1")
    big = slack.fake.wait("response_url")[0]
    slack.slack.press(big, lead("slack.more"), user="U1", channel="C1")
    modal = slack.fake.wait("views.open")[0]
    done = next(lab for lab in labels(modal.blocks) if lab.startswith("Done"))
    slack.fake.fail("views.update", status=500, error="internal_error")
    slack.slack.press(modal, done, user="U1")
    slack.fake.wait("views.update")
    eventually(lambda: outbox_rows(slack.engine))
    assert slack.drain() == 1
    [answer] = slack.fake.wait("chat.postMessage")
    assert answer.args["channel"] == "U1" and f"done {done.split()[1]}" in shown(answer)
    assert OOPS not in shown(answer) and all(OOPS not in shown(c) for c in slack.fake.calls)
