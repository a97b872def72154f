"""A report's chart reaches the chat through the real clients: Slack (slack-bolt's WebClient `files_upload_v2`:
files.getUploadURLExternal, the upload, files.completeUploadExternal) and Telegram (python-telegram-bot's
`sendPhoto`), against the fake platform APIs."""
# ruff: noqa: F811 - the shared fixtures are imported by name

from __future__ import annotations

import pytest

from handlers.i18n import t
from tests.adapters.telegram_fixtures import *  # noqa: F403
from tests.adapters.telegram_fixtures import ALICE, BOB
from tests.fakes.slack_fixtures import slack  # noqa: F401
from tests.fakes.telegram_harness import running_bot
from tests.says import says

PNG = b"\x89PNG\r\n\x1a\n"


def test_slack_report_chart_is_uploaded_into_the_dm_conversation(slack):
    slack.staff("mary", slack_id="U1", role="manager")
    slack.slack.command("/report", "funnel", user="U1", channel="D1")
    done = slack.fake.wait("files.completeUploadExternal")[0]
    assert done.args["channel_id"] == "D1"
    [url] = slack.fake.calls_to("files.getUploadURLExternal")
    assert url.args["filename"].startswith("funnel-") and url.args["filename"].endswith(".png")
    [up] = slack.fake.calls_to("upload")
    assert up.args["head"] == PNG and up.args["size"] == int(url.args["length"]) > 5000
    assert done.args["files"][0]["title"] == t("en", "opp.rep.title", start="2026-01-01", end="2026-12-31")
    assert t("en", "opp.rep.conversion") in str(slack.fake.wait("response_url")[0].blocks)  # and the table
    assert slack.fake.problems == []


def test_slack_report_typed_in_a_channel_sends_its_chart_to_the_dm(slack):
    slack.staff("mary", slack_id="U1", role="manager", lang="zh")
    slack.slack.command("/report", "预测", user="U1", channel="C5")
    done = slack.fake.wait("files.completeUploadExternal")[0]
    assert done.args["channel_id"] == "D1"  # a private report's chart never lands in the shared channel
    [up] = slack.fake.calls_to("upload")
    assert up.args["head"] == PNG


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_telegram_report_chart_is_sent_as_a_photo(tg_core, fake) -> None:
    with running_bot(tg_core, fake):
        fake.push_message(chat_id=ALICE, user_id=ALICE, text="/report csat")
        fake.push_message(chat_id=BOB, user_id=BOB, text="/report sla")
        photos = fake.wait_for(lambda: len(fake.calls_of("sendPhoto")) == 2 and fake.calls_of("sendPhoto"))
    by_chat = {int(p["chat_id"]): p for p in photos}
    assert by_chat[ALICE].files["photo"].startswith(PNG) and len(by_chat[ALICE].files["photo"]) > 5000
    assert by_chat[ALICE]["caption"] == t("en", "csat.trend")
    assert by_chat[BOB].files["photo"].startswith(PNG) and by_chat[BOB]["caption"] == t("zh", "sla.trend")


def test_the_weekly_review_posts_its_chart_into_the_slack_service_channel(slack):
    from handlers.services.reviews import post_complaint_review
    from storage.db import session_scope

    with session_scope(slack.engine) as s:
        assert post_complaint_review(s, now=slack.core.clock(), settings=slack.core.settings,
                                     channels=slack.core.channels) == 1
    assert slack.drain() == 1
    done = slack.fake.wait("files.completeUploadExternal")[0]
    assert done.args["channel_id"] == "CSERVICE"
    [post] = slack.fake.calls_to("chat.postMessage")
    assert post.args["channel"] == "CSERVICE" and t("en", "review.breaches") in str(post.blocks)
    [up] = slack.fake.calls_to("upload")
    assert up.args["head"] == PNG and says(done.args["files"][0]["title"], "review.title")
