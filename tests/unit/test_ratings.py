from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers import actions
from handlers.i18n import t
from handlers.services.ratings import send_rating_reminders
from handlers.services.reviews import post_complaint_review
from storage.db import session_scope
from tests.unit.test_tickets_support import Desk, is_error, text_of


@pytest.fixture
def desk(core, engine) -> Desk:
    return Desk(core, engine)


def closed_ticket(desk, cust=None, line="云栖 complaint high: logins fail") -> str:
    code = desk.open(line=line)
    desk.assign(code, "alan")
    desk.user("alan").send(f"/ticket resolve {code} renewed the certificate")
    desk.user("alan").send(f"/ticket close {code}")
    return code


def test_close_sends_rating_request_and_customer_rates_once(desk):
    cust = desk.customer()
    code = closed_ticket(desk)
    msgs = desk.to(cust.chat, desk.drain())
    req = msgs[-1]
    cust.view(req.reply, scope=f"c:{cust.chat}")
    assert cust.choices() == [f"/rate {code} {n}" for n in range(1, 6)]
    labels = [line for line in req.text.splitlines() if "[1]" in line][0]
    assert "1" in labels and "5" in labels
    out = cust.press_cmd(f"/rate {code} 5")
    assert t("en", "rate.thanks", n=5) in out
    out = cust.send("skip")
    assert t("en", "rate.thanks_final") in out
    tk = desk.ticket(code)
    assert (tk.rating, tk.rating_comment) == (5, None)
    # replaying the same click (or another value) changes nothing
    cust.view(req.reply, scope=f"c:{cust.chat}")
    out = cust.press_cmd(f"/rate {code} 1")
    assert t("en", "rate.already", code=code) in out
    assert desk.ticket(code).rating == 5
    assert [e.kind for e in desk.events(code)].count("rated") == 1


def test_forged_rating_clicks_change_nothing(desk):
    cust1 = desk.customer("cust-1", "c1")
    cust2 = desk.customer("cust-2", "c2")
    code = closed_ticket(desk)  # c1's ticket
    desk.drain()
    # a token made for cust-1's chat, pressed from cust-2's chat: not valid there
    tok = actions.encode(f"/rate {code} 1", scope="c:cust-1", secret=desk.core.secret, now=desk.core.clock())
    cust2.press_token(tok)
    assert t("en", "button.invalid") in cust2.last.text
    # cust-2 rating c1's ticket with a token signed for its own chat: not its ticket
    tok = actions.encode(f"/rate {code} 1", scope="c:cust-2", secret=desk.core.secret, now=desk.core.clock())
    cust2.press_token(tok)
    assert t("en", "tk.not_found", code=code) in cust2.last.text
    # typed by a customer of another company, or by staff
    assert "⚠" in cust2.send(f"/rate {code} 2")
    assert "⚠" in desk.user("alan").send(f"/rate {code} 2")
    # a rating for a ticket that is not closed yet
    open_code = desk.open()
    assert t("en", "rate.not_closed", code=open_code) in cust1.send(f"/rate {open_code} 3")
    assert desk.ticket(code).rating is None and desk.ticket(open_code).rating is None
    # a tampered token
    good = actions.encode(f"/rate {code} 5", scope="c:cust-1", secret=desk.core.secret, now=desk.core.clock())
    cust1.press_token(good.replace("5|", "4|", 1))
    assert t("en", "button.invalid") in cust1.last.text
    assert desk.ticket(code).rating is None


def test_low_rating_alerts_the_channel(desk):
    cust = desk.customer()
    code = closed_ticket(desk)
    desk.drain()
    cust.send(f"/rate {code} 2")
    cust.send("Nobody called me back for hours")
    posts = desk.to("#service", desk.drain())
    # one alert per rating: the comment updates the same post in place, it is not a second alert
    assert len(posts) == 2 and posts[0].edit_of is None and posts[1].edit_of == posts[0].message_ref
    assert code in posts[0].text and "2/5" in posts[0].text
    assert "Nobody called me back" in posts[1].text and "2/5" in posts[1].text
    assert "recovery:" + code + "@console" in desk.outbox_keys()


def awaited(text: str) -> bool:
    """The alert says the customer's comment may still come (and until when), not "Comment: —"."""
    before, after = t("en", "rate.comment_pending", until="\0").split("\0")
    return before in text and after in text


def test_low_rating_alert_waits_for_the_comment_and_is_edited_when_it_comes(desk, clock):
    cust = desk.customer()
    code = closed_ticket(desk)
    desk.drain()
    cust.send(f"/rate {code} 2")
    [post] = desk.to("#service", desk.drain())  # at once: service recovery should not wait an hour
    assert awaited(post.text) and "—" not in post.text.split("Comment:")[-1][:3]
    until = (clock() + timedelta(hours=1)).astimezone(ZoneInfo(desk.core.settings.default_tz))
    assert until.strftime("%Y-%m-%d %H:%M") in post.text
    clock.advance(minutes=20)
    cust.send("Nobody called me back for hours")
    [edit] = desk.to("#service", desk.drain())
    assert edit.edit_of == post.message_ref and "Nobody called me back" in edit.text and not awaited(edit.text)


def test_low_rating_without_comment_alerts_once(desk):
    cust = desk.customer()
    code = closed_ticket(desk)
    desk.drain()
    cust.send(f"/rate {code} 1")
    cust.send("skip")
    post, edit = desk.to("#service", desk.drain())  # one alert, edited: no comment is coming
    assert "1/5" in post.text and awaited(post.text)
    assert edit.edit_of == post.message_ref and t("en", "rate.comment_none") in edit.text


def test_comment_only_once_and_only_own(desk):
    cust = desk.customer()
    code = closed_ticket(desk)
    cust.send(f"/rate {code} 4")
    cust.send("Good job")
    cust.send("/ticket")  # a later message is a new dialog, not a second comment
    assert desk.ticket(code).rating_comment == "Good job"


def test_phone_rating_for_unbound_customer(desk):
    code = closed_ticket(desk, line="Beta complaint high: no chat here")
    assert desk.drain() and desk.ticket(code).rating_requested_at is None
    out = desk.user("alan").send(f"/ticket rating {code} 3 okay but slow")
    assert t("en", "rate.recorded", n=3, code=code) in out
    tk = desk.ticket(code)
    assert (tk.rating, tk.rating_comment) == (3, "okay but slow")
    assert t("en", "rate.already", code=code) in desk.user("alan").send(f"/ticket rating {code} 5")
    assert t("en", "rate.bad_value", value="9") in desk.user("sue").send(f"/ticket rating {code} 9")
    assert "⚠" in desk.user("bea").send(f"/ticket rating {code} 5")  # not her ticket


def test_rating_reminder_once(desk, clock):
    cust = desk.customer()
    code = closed_ticket(desk)
    desk.drain()

    def remind() -> int:
        with session_scope(desk.engine) as s:
            return send_rating_reminders(s, now=clock(), settings=desk.core.settings)

    clock.advance(hours=23)
    assert remind() == 0
    clock.advance(hours=1)
    assert remind() == 1
    msgs = desk.to(cust.chat, desk.drain())
    assert len(msgs) == 1 and code in msgs[0].text
    clock.advance(days=3)
    assert remind() == 0
    assert desk.ticket(code).rating_reminded_at is not None


def test_reopen_and_confirm_by_customer(desk):
    cust = desk.customer()
    code = desk.open()
    desk.assign(code, "alan")
    desk.user("alan").send(f"/ticket resolve {code} restarted the server")
    res = desk.to(cust.chat, desk.drain())[-1]
    cust.view(res.reply, scope=f"c:{cust.chat}")
    assert cust.choices() == [f"/ticket confirm {code}", f"/ticket reopen {code}"]
    cust.press_cmd("/ticket reopen")
    assert desk.ticket(code).status == "in_progress"
    dm = desk.to("@alan", desk.drain())
    assert dm and code in dm[0].text
    # the old Confirm button no longer works: the ticket is not resolved
    cust.view(res.reply, scope=f"c:{cust.chat}")
    r = cust.press_cmd("/ticket confirm")
    assert "⚠" in r
    assert desk.ticket(code).status == "in_progress"


def test_report_csat(desk):
    c1 = desk.customer()
    a = closed_ticket(desk)
    b = closed_ticket(desk, line="云栖 support high: b")
    c1.send(f"/rate {a} 5")
    c1.send("great")
    c1.send(f"/rate {b} 2")
    c1.send("too slow")
    out = desk.user("sue").send("/report csat")
    assert "alan" in out and "3.5" in out and "50%" in out and "too slow" in out
    r = desk.press("rob", "/report csat", scope="c:@rob", chat="@rob")
    assert is_error(r) and t("en", "report.forbidden", kind="csat") in text_of(r)


def test_weekly_complaint_review_posts_once(desk, clock):
    cust = desk.customer()
    code = closed_ticket(desk)
    cust.send(f"/rate {code} 1")
    desk.open(line="云栖 complaint high: still broken")
    desk.drain()
    clock.advance(days=7)  # Monday 2026-11-30 10:00 local: review the week of 11-23

    def post() -> int:
        with session_scope(desk.engine) as s:
            return post_complaint_review(s, now=clock(), settings=desk.core.settings,
                                         channels=desk.core.channels)

    assert post() == 1
    assert post() == 0
    posts = desk.to("#service", desk.drain())
    assert len(posts) == 1
    assert code in posts[0].text and "FW2026002" in posts[0].text and "1★" in posts[0].text
    assert "review:2026-W48@console" in desk.outbox_keys()


def test_resolving_for_an_unbound_customer_says_how_to_close_and_rate(desk):
    code = desk.open(line="Beta complaint high: no chat here")
    desk.assign(code, "alan")
    out = desk.user("alan").send(f"/ticket resolve {code} reset the router")
    assert t("en", "tk.resolved_ok_unbound", code=code) in out
    desk.customer()  # 云栖 has a chat: the usual message
    code2 = desk.open()
    desk.assign(code2, "alan")
    assert t("en", "tk.resolved_ok", code=code2) in desk.user("alan").send(f"/ticket resolve {code2} renewed it")


def test_a_message_hours_after_the_rating_is_not_taken_as_its_comment(desk, clock):
    cust = desk.customer()
    code = closed_ticket(desk)
    desk.drain()
    cust.send(f"/rate {code} 5")
    clock.advance(hours=3)  # the comment prompt was ignored; now the customer writes about a new problem
    out = cust.send("The printer is broken again")
    assert t("en", "tk.cust_from_text") in out  # a new ticket is being opened with that text
    assert desk.ticket(code).rating_comment is None
