"""A complaint's emotion (激动/不满/平和/失望) and cause category, typed in either language, grouped in the weekly
review (handbook 002 §3.3)."""

from __future__ import annotations

import pytest

from handlers.i18n import t
from handlers.services.reviews import post_complaint_review
from storage.db import session_scope
from tests.says import says
from tests.unit.test_tickets_support import Desk


@pytest.fixture
def desk(core, engine) -> Desk:
    return Desk(core, engine)


def test_the_guided_dialog_asks_a_complaints_emotion(desk):
    s = desk.user("sue")
    s.send("/ticket new 云栖 complaint: printer jams")
    s.send("skip")  # the contact
    out = s.send("高")
    assert t("en", "cmp.dlg.emotion") in out
    out = s.send("激动")
    assert "FW2026001" in out
    tk = desk.ticket("FW2026001")
    assert (tk.emotion, tk.cause) == ("agitated", None)
    assert [e.kind for e in desk.events("FW2026001")][-1] == "classified"
    s.send("/ticket new 云栖 support: printer jams")
    s.send("skip")
    out = s.send("高")
    assert "FW2026002" in out and desk.ticket("FW2026002").emotion is None  # no emotion asked of a support ticket
    out = s.send("/ticket new 云栖 投诉 高 失望: 又坏了")  # one line, the emotion among the words
    assert "FW2026003" in out and desk.ticket("FW2026003").emotion == "disappointed"


def test_classify_in_either_language_and_the_card_shows_it(desk):
    code = desk.open()
    desk.assign(code, "alan")
    out = desk.user("alan").send(f"/ticket classify {code} 失望 质量")
    assert says(out, "cmp.classified", code=code)
    tk = desk.ticket(code)
    assert (tk.emotion, tk.cause) == ("disappointed", "product")
    out = desk.user("sue").send(f"/ticket classify {code} emotion=upset cause:billing")
    assert (desk.ticket(code).emotion, desk.ticket(code).cause) == ("agitated", "billing")
    assert t("en", "enum.complaint_cause.billing") in out and t("en", "cmp.f.emotion") in out
    assert says(desk.user("sue").send(f"/ticket classify {code} 激动"), "cmp.unchanged", code=code)
    assert len([e for e in desk.events(code) if e.kind == "classified"]) == 2


def test_classify_refuses_what_it_cannot_record(desk):
    code = desk.open()
    out = desk.user("sue").send(f"/ticket classify {code} furious-ish")
    assert says(out, "cmp.err.word", value="furious-ish")
    other = desk.open(line="Beta support high: slow")
    assert says(desk.user("sue").send(f"/ticket classify {other} 激动"), "cmp.err.not_complaint", code=other)
    desk.assign(code, "alan")
    out = desk.user("bea").send(f"/ticket classify {code} 激动")  # not hers
    assert says(out, "tk.not_handler", code=code)
    assert desk.ticket(code).emotion is None
    assert says(desk.user("ray").send(f"/ticket classify {code} 激动"), "tk.not_handler", code=code)


def test_resolving_a_complaint_offers_its_causes_as_buttons_once(desk):
    code = desk.open()
    desk.assign(code, "alan")
    alan = desk.user("alan")
    out = alan.send(f"/ticket resolve {code} fixed the login server")
    assert t("en", "cmp.dlg.cause") in out
    causes = [c for c in alan.choices() if c.startswith("/ticket classify")]
    assert causes[0] == f"/ticket classify {code} product" and len(causes) == 6
    out = alan.press_cmd(f"/ticket classify {code} process")
    assert says(out, "cmp.classified", code=code) and t("en", "cmp.dlg.cause") not in out
    tk = desk.ticket(code)
    assert (tk.status, tk.cause) == ("resolved", "process")
    other = desk.open()
    desk.assign(other, "alan")
    desk.user("alan").send(f"/ticket classify {other} 服务态度")
    out = desk.user("alan").send(f"/ticket resolve {other} apologised")
    assert t("en", "cmp.dlg.cause") not in out  # recorded already: nothing to ask


def test_weekly_review_groups_complaints_by_cause_and_emotion(desk, clock):
    codes = [desk.open() for _ in range(4)]
    sue = desk.user("sue")
    sue.send(f"/ticket classify {codes[0]} 激动 产品质量")
    sue.send(f"/ticket classify {codes[1]} 不满 product")
    sue.send(f"/ticket classify {codes[2]} 激动 服务态度")
    desk.open(line="Beta support high: not a complaint")
    desk.drain()
    clock.advance(days=7)
    with session_scope(desk.engine) as s:
        assert post_complaint_review(s, now=clock(), settings=desk.core.settings, channels=desk.core.channels) == 1
    (post,) = desk.to("#service", desk.drain())
    text = post.text
    assert t("en", "review.by_cause") in text and t("en", "review.by_emotion") in text
    by_cause = text.split(t("en", "review.by_cause"))[1].split(t("en", "review.by_emotion"))[0]
    lines = [ln.strip() for ln in by_cause.strip().splitlines() if ln.strip()]
    assert lines[0].startswith(t("en", "enum.complaint_cause.product")) and lines[0].endswith("2")
    assert lines[1].startswith(t("en", "enum.complaint_cause.attitude")) and lines[1].endswith("1")
    assert lines[2].startswith(t("en", "review.not_recorded")) and lines[2].endswith("1")


def test_the_export_carries_emotion_and_cause(desk):
    from handlers import exporting
    code = desk.open()
    desk.user("sue").send(f"/ticket classify {code} 平和 交付")
    with session_scope(desk.engine) as s:
        rows = exporting.build_rows(s, "tickets", tz="Asia/Shanghai")
    assert (rows[0]["emotion"], rows[0]["cause"]) == ("calm", "delivery")
    zh = exporting.localize(rows, "tickets", "zh")
    assert (zh[0]["emotion"], zh[0]["cause"]) == ("平和", "交付物流")
