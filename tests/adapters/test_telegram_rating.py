"""A low rating on Telegram: the service group is alerted at once, saying the comment may still come, and the same
post is edited in place (editMessageText) when the customer's comment arrives."""

from __future__ import annotations

import html

import pytest

from handlers import actions
from handlers.i18n import t
from tests.adapters.telegram_fixtures import *  # noqa: F403
from tests.adapters.telegram_fixtures import SERVICE
from tests.adapters.test_telegram_order import CODE, CUST, resolved  # noqa: F401 - the fixture
from tests.fakes.telegram_harness import running_bot

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_low_rating_post_is_edited_when_the_comment_arrives(tg_core, fake, resolved, clock) -> None:  # noqa: F811
    token = actions.encode(f"/ticket confirm {CODE}", scope=f"c:{CUST}", secret=tg_core.secret, now=clock())
    before, after = t("en", "rate.comment_pending", until="\0").split("\0")
    with running_bot(tg_core, fake, service_chat=str(SERVICE)):
        fake.push_callback(chat_id=CUST, user_id=CUST, data=token)  # "Solved, thanks"
        _, rating = fake.wait_sent(CUST, 2)
        fake.press(rating, "2★")
        fake.wait_sent(CUST, 1, after=2)  # thanks, and the comment question
        [post] = fake.wait_sent(SERVICE)
        fake.push_message(chat_id=CUST, user_id=CUST, text="Nobody <called> me back")
        [edit] = fake.wait_for(lambda: fake.calls_of("editMessageText", chat_id=SERVICE))
    text = html.unescape(post["text"])
    assert CODE in text and "2/5" in text and before in text and after in text
    assert edit["message_id"] == post.result["message_id"]
    assert "Nobody <called> me back" in html.unescape(edit["text"]) and before not in html.unescape(edit["text"])
    assert len(fake.sent(SERVICE)) == 1 and fake.problems == []
