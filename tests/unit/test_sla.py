from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from handlers.i18n import t
from handlers.services.ratings import auto_close_due
from handlers.services.sla import escalate_due
from storage.db import session_scope
from storage.models import SlaBreach
from tests.unit.test_tickets_support import Desk


@pytest.fixture
def desk(core, engine) -> Desk:
    return Desk(core, engine)


def run(desk, job=escalate_due) -> int:
    with session_scope(desk.engine) as s:
        kw = {"channels": desk.core.channels}
        return job(s, now=desk.core.clock(), settings=desk.core.settings, **kw)


def breaches(desk) -> list[tuple[str, int, bool]]:
    with session_scope(desk.engine) as s:
        return [(b.kind, b.level, b.met_at is not None)
                for b in s.scalars(select(SlaBreach).order_by(SlaBreach.id))]


def test_assign_deadline_escalates_once_per_level(desk, clock):
    code = desk.open()  # ray's customer; ray's manager is mia
    desk.drain()
    clock.advance(minutes=9)
    assert run(desk) == 0
    clock.advance(minutes=2)
    assert run(desk) == 1
    assert run(desk) == 0
    posts = desk.to("#service", desk.drain())
    assert len(posts) == 1 and code in posts[0].text
    assert t("en", "sla.kind.assign") in posts[0].text
    sue = desk.user("sue")
    sue.view(posts[0].reply, scope="c:#service")
    assert f"/ticket take {code}" in sue.choices()  # the breach post can be acted on at once
    clock.advance(minutes=29)
    assert run(desk) == 0  # escalate_after (30m) not yet over since level 1
    clock.advance(minutes=2)
    assert run(desk) == 1
    assert run(desk) == 0
    dm = desk.drain()
    assert [d.chat_ref for d in dm] == ["@mia"]
    assert breaches(desk) == [("assign", 1, False), ("assign", 2, False)]
    clock.advance(hours=5)
    assert run(desk) == 0
    # met late: the breach stays, with met_at
    desk.assign(code, "alan")
    assert breaches(desk) == [("assign", 1, True), ("assign", 2, True)]


def test_contact_and_resolve_clocks_start_at_assignment(desk, clock):
    code = desk.open()
    clock.advance(minutes=5)
    desk.assign(code, "alan")
    clock.advance(minutes=29)
    assert run(desk) == 0
    clock.advance(minutes=2)
    assert run(desk) == 1
    assert breaches(desk) == [("contact", 1, False)]
    desk.user("alan").send(f"/ticket note {code} called the customer")
    assert breaches(desk) == [("contact", 1, True)]
    clock.advance(hours=1)
    assert run(desk) == 0  # met: no level 2
    clock.advance(hours=23)
    assert run(desk) == 1
    assert breaches(desk)[-1] == ("resolve", 1, False)


def test_late_resolve_records_the_breach_without_a_job_run(desk, clock):
    code = desk.open(line="云栖 support low: slow reports")
    desk.assign(code, "alan")
    desk.user("alan").send(f"/ticket note {code} looking")
    clock.advance(days=8)  # low: resolve within 7d
    desk.user("alan").send(f"/ticket resolve {code} added an index")
    assert breaches(desk) == [("resolve", 1, True)]
    assert run(desk) == 0


def test_level_two_without_owner_manager_reaches_supervisors_and_admins_once(desk, clock):
    """A pool customer (no owner) and rob's customer (rob has no manager): level 2 still reaches someone — each
    supervisor and admin, once per ticket; later runs send nothing more."""
    pool = desk.open(line="Pool complaint high: x")
    beta = desk.open(line="Beta complaint high: y")
    clock.advance(minutes=11)
    assert run(desk) == 2
    desk.drain()
    clock.advance(minutes=29)
    assert run(desk) == 0  # escalate_after not over yet
    clock.advance(minutes=2)
    assert run(desk) == 2
    dms = [d for d in desk.drain() if d.chat_ref != "#service"]
    assert sorted((d.chat_ref, code) for d in dms for code in (pool, beta) if code in d.text) == sorted(
        (who, code) for who in ("@ada", "@sue", "@sam") for code in (pool, beta))
    assert all(t("en", "sla.alert.l2", code="X", customer="Y", kind="Z", due="W").split(":")[0] in d.text for d in dms)
    for _ in range(3):
        clock.advance(hours=2)
        assert run(desk) == 0
    assert desk.drain() == []
    assert breaches(desk) == [("assign", 1, False), ("assign", 1, False), ("assign", 2, False), ("assign", 2, False)]


def test_resolved_and_closed_tickets_do_not_escalate(desk, clock):
    code = desk.open()
    desk.assign(code, "alan")
    desk.user("alan").send(f"/ticket resolve {code} fixed at once")
    control = desk.open()  # the same ticket left open: it does escalate
    desk.assign(control, "alan")
    clock.advance(days=3)
    assert run(desk) > 0
    with session_scope(desk.engine) as s:
        escalated = set(s.scalars(select(SlaBreach.ticket_id)))
    assert escalated == {desk.ticket(control).id}


def test_report_sla_lists_breaches(desk, clock):
    code = desk.open()
    clock.advance(minutes=11)
    run(desk)
    out = desk.user("sue").send("/report sla")
    assert code in out and t("en", "sla.still_open") in out
    desk.assign(code, "alan")
    out = desk.user("sue").send("/report sla week")
    assert code in out and t("en", "sla.still_open") not in out
    assert "⚠" in desk.user("ray").send("/report sla")  # reps have no SLA report


def test_report_sla_keeps_a_breach_still_open_from_last_month(desk, clock):
    clock.now = clock.now.replace(day=30, hour=14)  # 22:00 on the last day of November in Asia/Shanghai
    code = desk.open()
    clock.advance(minutes=11)
    run(desk)
    clock.advance(hours=3)  # December now: the breach fell due last month and is still open
    out = desk.user("sue").send("/report sla")
    assert code in out and t("en", "sla.still_open") in out
    assert f"{t('en', 'sla.open_now')}: 1" in out
    desk.assign(code, "alan")
    out = desk.user("sue").send("/report sla")
    assert code not in out and f"{t('en', 'sla.open_now')}: 0" in out
    assert f"{t('en', 'sla.open_now')}" not in desk.user("sue").send("/report sla 2026-10")  # a past period


def test_card_shows_clocks(desk, clock):
    code = desk.open()
    out = desk.user("sue").send(f"/ticket {code}")
    assert t("en", "sla.left", left="10m", due="2026-11-23 10:10") in out
    clock.advance(minutes=25)
    out = desk.user("sue").send(f"/ticket {code}")
    assert t("en", "sla.overdue", by="15m", due="2026-11-23 10:10") in out


def test_auto_close_after_resolved_without_reopen(desk, clock):
    cust = desk.customer()
    a = desk.open()
    b = desk.open(line="云栖 support high: second")
    for code in (a, b):
        desk.assign(code, "alan")
        desk.user("alan").send(f"/ticket resolve {code} done")
    desk.drain()
    clock.advance(hours=12)
    cust.send(f"/ticket reopen {b}")
    clock.advance(hours=12, minutes=1)
    assert run(desk, auto_close_due) == 1
    assert desk.ticket(a).status == "closed" and desk.ticket(b).status == "in_progress"
    assert desk.events(a)[-1].kind == "auto_closed"
    msgs = desk.to(cust.chat, desk.drain())
    assert len(msgs) == 1 and "/rate" not in msgs[0].text
    cust.view(msgs[0].reply, scope=f"c:{cust.chat}")
    assert cust.choices() == [f"/rate {a} {n}" for n in range(1, 6)]
    assert run(desk, auto_close_due) == 0
    assert desk.ticket(a).closed_at - desk.ticket(a).resolved_at > timedelta(hours=24)


def test_resolving_without_a_note_meets_the_contact_clock(desk, clock):
    code = desk.open()
    desk.assign(code, "alan")
    clock.advance(minutes=31)  # high: contact within 30 min
    assert run(desk) == 1
    desk.user("alan").send(f"/ticket resolve {code} reset the password on the phone")
    assert breaches(desk) == [("contact", 1, True)]  # met late, not "still open" forever
    clock.advance(hours=2)
    assert run(desk) == 0


def test_assigning_from_the_breach_alert_edits_that_alert(desk, clock):
    code = desk.open(line="云栖 support medium: slow reports")  # medium: no new-ticket post, only the alert
    assert desk.to("#service", desk.drain()) == []
    clock.advance(hours=5)  # medium: assign within 4 h
    assert run(desk) == 1
    alert = desk.to("#service", desk.drain())[0]
    sue = desk.user("sue")
    sue.view(alert.reply, scope="c:#service")
    sue.press_cmd(f"/ticket assign {code} {desk.ids['alan']}")
    edits = [d for d in desk.to("#service", desk.drain()) if d.edit_of]
    assert len(edits) == 1 and edits[0].edit_of == alert.message_ref and "alan" in edits[0].text
    assert t("en", "tk.btn.take") not in edits[0].text  # the controls are gone


def test_a_complaint_runs_on_the_complaint_clock_whatever_its_priority(desk, clock):
    """domain.md (seed 002 §3.3): a complaint is assigned within 10 min, contacted within 30, resolved in 24 h."""
    code = desk.open(line="云栖 complaint low: the invoice was wrong")
    opened = clock()
    assert desk.ticket(code).assign_due_at == opened + timedelta(minutes=10)
    desk.assign(code, "alan")
    tk = desk.ticket(code)
    assert (tk.contact_due_at, tk.resolve_due_at) == (opened + timedelta(minutes=30), opened + timedelta(hours=24))
    other = desk.open(line="云栖 support low: slow reports")  # not a complaint: the low-priority times
    assert desk.ticket(other).assign_due_at == opened + timedelta(hours=4)


def test_level_two_goes_to_an_owner_who_is_a_manager(desk, clock):
    from storage.models import Staff
    from tests import factories as f

    with session_scope(desk.engine) as s:
        f.customer(s, name="Gamma Foods", owner=s.get(Staff, desk.ids["mia"]), contact="Wu")
    desk.open(line="Gamma complaint high: z")
    desk.drain()
    clock.advance(minutes=11)
    assert run(desk) == 1
    clock.advance(minutes=31)
    assert run(desk) == 1
    assert [d.chat_ref for d in desk.drain() if d.chat_ref != "#service"] == ["@mia"]
