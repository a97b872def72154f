"""A complaint leaves a trace on its customer (seed 002 §3.3): resolved, closed and rated each add one
history entry, credited to the agent, shown on the card and in /history, once per event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from handlers.i18n import t
from handlers.services.ratings import auto_close_due
from storage.db import session_scope
from storage.models import Customer, FollowUp, Staff
from tests.unit.test_tickets_support import Desk


@pytest.fixture
def desk(core, engine) -> Desk:
    return Desk(core, engine)


def trace(desk, customer: str = "c1") -> list[tuple[str, str, str, object]]:
    with session_scope(desk.engine) as s:
        names = dict(s.execute(select(Staff.id, Staff.name)).all())
        return [(fu.method, fu.content, names[fu.staff_id], fu.next_followup_at) for fu in s.scalars(
            select(FollowUp).where(FollowUp.customer_id == desk.ids[customer]).order_by(FollowUp.id))]


def test_complaint_resolved_closed_rated_leave_one_entry_each(desk):
    cust = desk.customer()
    code = desk.open()
    desk.assign(code, "alan")
    alan = desk.user("alan")
    alan.send(f"/ticket resolve {code} renewed the certificate")
    assert alan.send(f"/ticket resolve {code} again").startswith("⚠")  # a repeat is refused: no second entry
    alan.send(f"/ticket close {code}")
    alan.send(f"/ticket close {code}")
    cust.send(f"/rate {code} 4")
    cust.send(f"/rate {code} 4")  # replayed
    assert trace(desk) == [
        ("service", t("en", "fu.service.resolved", code=code, resolution="renewed the certificate"), "alan", None),
        ("service", t("en", "fu.service.closed", code=code), "alan", None),
        ("service", t("en", "fu.service.rated", code=code, n=4), "alan", None)]  # the customer rated: the agent's
    ray = desk.user("ray")  # the customer's owner sees it on the card and in /history
    card = ray.send(f"/customer {desk.codes['c1']}")
    assert t("en", "fu.service.rated", code=code, n=4) in card
    history = ray.send(f"/history {desk.codes['c1']}")
    assert t("en", "fu.service.resolved", code=code, resolution="renewed the certificate") in history
    assert "alan" in history and t("en", "enum.method.service") in history


def test_complaint_trace_is_no_sales_call(desk, core):
    with session_scope(desk.engine) as s:
        before = s.get(Customer, desk.ids["c1"]).last_followup_at
    code = desk.open()
    desk.assign(code, "alan")
    desk.user("alan").send(f"/ticket resolve {code} fixed")
    desk.user("alan").send(f"/ticket close {code}")
    assert len(trace(desk)) == 2
    ray = desk.user("ray")
    ray.send(f"/log {desk.codes['c1']} phone: quick call")
    ray.press_cmd("/log undo")  # recomputes the customer's last contact
    with session_scope(desk.engine) as s:
        assert s.get(Customer, desk.ids["c1"]).last_followup_at == before  # cadence and pool return ignore it
    report = desk.user("mia").send("/report followups")
    assert t("en", "fu.report.total", total=0, overdue=0) in report
    # and it is not something a rep can log by hand
    n = len(trace(desk))
    assert desk.user("ray").send(f"/log {desk.codes['c1']} service: hi").startswith("⚠")
    assert len(trace(desk)) == n
    with session_scope(desk.engine) as s:  # nor edited or undone by hand
        fid = s.scalar(select(FollowUp.id).where(FollowUp.method == "service"))
    for cmd in (f"/log edit {fid} content=x", f"/log undo {fid}", f"/log next {fid} tomorrow"):
        assert desk.user("ada").send(cmd) == "⚠ " + t("en", "fu.not_found", id=fid)


def test_other_tickets_leave_no_trace_and_auto_close_credits_the_agent(desk, core, settings):
    code = desk.open(line="云栖 consult low: how do I export")
    desk.assign(code, "alan")
    desk.user("alan").send(f"/ticket resolve {code} sent the guide")
    desk.user("alan").send(f"/ticket close {code}")
    assert trace(desk) == []
    code = desk.open()
    desk.assign(code, "bea")
    desk.user("bea").send(f"/ticket resolve {code} fixed")
    later = core.clock() + settings.auto_close_after + timedelta(minutes=1)
    with session_scope(desk.engine) as s:
        assert auto_close_due(s, now=later, settings=settings, channels={"console": "#service"}) == 1
    with session_scope(desk.engine) as s:
        assert auto_close_due(s, now=later, settings=settings, channels={"console": "#service"}) == 0
    assert [(c, who) for _, c, who, _ in trace(desk)] == [
        (t("en", "fu.service.resolved", code=code, resolution="fixed"), "bea"),
        (t("en", "fu.service.auto_closed", code=code), "bea")]


def test_a_complaint_is_no_first_contact_of_a_new_lead(desk, core, settings):
    from scheduler import runner

    with session_scope(desk.engine) as s:
        s.get(Customer, desk.ids["c1"]).type = "potential"
    code = desk.open()
    desk.assign(code, "alan")
    desk.user("alan").send(f"/ticket resolve {code} fixed")
    assert len(trace(desk)) == 1
    n = runner.run_job(desk.engine, "first_contact", now=core.clock() + timedelta(hours=21), settings=settings,
                       channels={"console": "#service"})
    assert n == 1  # ray is still reminded (at 20 h) to make the first sales contact
