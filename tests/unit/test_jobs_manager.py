"""team_alert and weekly_summary: a manager hears about their team once a day / once a week, with Remind and
Reassign buttons that act once and only for managers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.console.driver import ConsoleSession
from handlers import charts
from handlers.i18n import enum_label, t
from handlers.views import Fields, ListPage, Text, from_json
from scheduler import runner
from storage.db import session_scope
from storage.models import Customer, FollowUp, Opportunity, OpportunityStage, Outbox, Staff
from tests import factories as f
from tests.says import says
from tests.unit.test_charts import check_cjk_figure

CHANNELS = {"console": "#service"}
NINE = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


def run(engine, settings, name, now) -> int:
    return runner.run_job(engine, name, now=now, settings=settings, channels=CHANNELS)


def rows(engine, prefix: str = "", status: str | None = None) -> list[Outbox]:
    with session_scope(engine) as s:
        q = select(Outbox).where(Outbox.key.startswith(prefix)).order_by(Outbox.id)
        if status:
            q = q.where(Outbox.status == status)
        return list(s.scalars(q))


def texts(reply) -> str:
    out = []
    for v in reply.views:
        if isinstance(v, ListPage):
            out += [v.title] + [f"{i.text} {i.detail}" for i in v.items]
        elif isinstance(v, Fields):
            out += [f"{k}: {val}" for k, val in v.items]
        elif hasattr(v, "text"):
            out.append(v.text)
    return "\n".join(out)


@pytest.fixture
def team(core):
    return make_team(core)


def make_team(core):
    """mary manages alice and bob (team east); zed is in another team, managed by nobody."""
    with session_scope(core.engine) as s:
        mary, alice, bob, zed = f.east_and_west(s, admin=False)
        late = f.customer(s, name="Late Grade A", owner=alice, grade="A", now=f.NOW - timedelta(days=60))
        late.last_followup_at = f.NOW - timedelta(days=10)  # A: every 7 days
        ok = f.customer(s, name="Fine Grade C", owner=bob, grade="C", now=f.NOW - timedelta(days=20))  # C: 30 days
        lead = f.customer(s, name="New Lead", owner=bob, type="potential", now=f.NOW - timedelta(hours=30))
        other = f.customer(s, name="Other Team Late", owner=zed, grade="A", now=f.NOW - timedelta(days=60))
        return {"late": late.code, "ok": ok.code, "lead": lead.code, "other": other.code, "alice": alice.id,
                "bob": bob.id, "mary": mary.id}


def test_team_alert_at_the_managers_reminder_time_once_a_day(team, core, settings):
    e = core.engine
    assert run(e, settings, "team_alert", NINE - timedelta(minutes=1)) == 0
    assert run(e, settings, "team_alert", NINE) == 1
    assert run(e, settings, "team_alert", NINE + timedelta(minutes=5)) == 0
    (row,) = rows(e, "team_alert:")
    assert row.key == f"team_alert:{team['mary']}:2026-11-23" and row.chat_ref == "@mary"
    reply = from_json(row.payload)
    body = texts(reply)
    assert says(reply.text, "team.alert.summary", missed=1, behind=1, reps=2)
    assert team["late"] in body and team["lead"] in body
    assert team["ok"] not in body and team["other"] not in body  # in time; another team
    lists = [v for v in reply.views if isinstance(v, ListPage)]
    assert [v.title for v in lists] == [t("en", "team.alert.missed", n=1), t("en", "team.alert.behind", name="alice", n=1)]
    assert "bob" in lists[0].items[0].detail
    assert [b.action.cmd for b in lists[1].items[0].buttons] == [f"/nudge {team['late']}",
                                                                 f"/customer edit {team['late']} owner"]
    assert run(e, settings, "team_alert", NINE + timedelta(days=1)) == 1  # the next morning, still behind
    assert len(rows(e, "team_alert:")) == 2


def test_team_alert_nothing_to_say_sends_nothing(core, settings):
    with session_scope(core.engine) as s:
        mary = f.staff(s, name="mary", role="manager")
        alice = f.staff(s, name="alice", manager=mary)
        f.customer(s, name="Fresh", owner=alice, grade="A")  # created now: in cadence
        f.staff(s, name="lonely", role="manager", team="north")  # no team at all
    assert run(core.engine, settings, "team_alert", NINE) == 0
    assert rows(core.engine, "team_alert:", "pending") == []
    assert len(rows(core.engine, "team_alert:", "skipped")) == 2  # the day is decided: no late alert
    with session_scope(core.engine) as s:
        c = s.scalar(select(Customer).where(Customer.name == "Fresh"))
        c.last_followup_at = f.NOW - timedelta(days=9)
    assert run(core.engine, settings, "team_alert", NINE + timedelta(hours=3)) == 0
    assert run(core.engine, settings, "team_alert", NINE + timedelta(days=1)) == 1


def alert_session(core, who: str = "mary") -> ConsoleSession:
    (row,) = rows(core.engine, "team_alert:")
    sess = ConsoleSession(core, user=who)
    sess.view(from_json(row.payload), scope=row.scope)
    return sess


def test_remind_button_nudges_the_rep_once(team, core, settings):
    run(core.engine, settings, "team_alert", NINE)
    mary = alert_session(core)
    out = mary.press_cmd(f"/nudge {team['late']}")
    assert says(out, "team.nudged", name="alice", code=team["late"])
    (nudge,) = rows(core.engine, "nudge:")
    assert nudge.chat_ref == "@alice"
    reply = from_json(nudge.payload)
    assert says(reply.text, "team.nudge", by="mary", code=team["late"], days=10)
    mary = alert_session(core)
    assert says(mary.press_cmd(f"/nudge {team['late']}"), "team.err.nudged", name="alice", code=team["late"])
    assert len(rows(core.engine, "nudge:")) == 1
    core.clock.advance(days=1)  # another day, another reminder if still needed
    assert says(ConsoleSession(core, user="mary").send(f"/nudge {team['late']}"), "team.nudged")
    assert len(rows(core.engine, "nudge:")) == 2


def test_a_rep_can_neither_remind_nor_reassign(team, core, settings):
    alice = ConsoleSession(core, user="alice")
    alice.send(f"/nudge {team['late']}")
    assert rows(core.engine, "nudge:") == []
    out = alice.send(f"/customer edit {team['late']} owner")
    assert says(out, "cust.err.owner_forbidden")
    zed_mgr = ConsoleSession(core, user="zed")
    zed_mgr.send(f"/nudge {team['late']}")
    assert rows(core.engine, "nudge:") == []


def test_a_manager_reminds_only_about_their_own_team(team, core):
    with session_scope(core.engine) as s:
        f.staff(s, name="walt", role="manager", team="west")
    not_found = ("lookup.not_found", "lookup.not_found_suggest")
    out = ConsoleSession(core, user="mary").send(f"/nudge {team['other']}")
    assert any(says(out, k) for k in not_found)  # mary cannot see zed's customer
    out = ConsoleSession(core, user="walt").send(f"/nudge {team['late']}")
    assert any(says(out, k) for k in not_found)
    assert rows(core.engine, "nudge:") == []
    out = ConsoleSession(core, user="walt").send(f"/nudge {team['other']}")  # zed is in walt's team
    assert says(out, "team.nudged", name="zed")
    assert [r.chat_ref for r in rows(core.engine, "nudge:")] == ["@zed"]


def test_reassign_button_asks_for_the_new_owner_among_the_team(team, core, settings):
    run(core.engine, settings, "team_alert", NINE)
    mary = alert_session(core)
    out = mary.press_cmd(f"/customer edit {team['late']} owner")
    assert "bob" in out and "zed" not in out
    out = mary.send("bob")
    assert "bob" in out
    with session_scope(core.engine) as s:
        c = s.scalar(select(Customer).where(Customer.code == team["late"]))
        assert c.owner_id == team["bob"]


# ---------------------------------------------------------------- the Monday summary


def week_data(core):
    with session_scope(core.engine) as s:
        mary = s.scalar(select(Staff).where(Staff.name == "mary"))
        alice = s.scalar(select(Staff).where(Staff.name == "alice"))
        bob = s.scalar(select(Staff).where(Staff.name == "bob"))
        c = s.scalar(select(Customer).where(Customer.name == "Late Grade A"))
        mon = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # last week's Monday 10:00 local
        for i, method in enumerate(("phone", "phone", "phone", "visit")):
            s.add(FollowUp(customer_id=c.id, date=mon + timedelta(days=i), method=method, content="x",
                           staff_id=alice.id, created_at=mon))
        s.add(FollowUp(customer_id=c.id, date=f.NOW, method="phone", content="this week", staff_id=alice.id,
                       created_at=f.NOW))
        s.add(FollowUp(customer_id=c.id, date=mon - timedelta(days=3), method="phone", content="last week's",
                       staff_id=alice.id, created_at=mon, next_followup_at=mon + timedelta(days=2)))  # overdue
        s.add(FollowUp(customer_id=c.id, date=mon, method="service", content="ticket trace", staff_id=bob.id,
                       created_at=mon))  # no sales contact

        def opp(code, owner, expected, created, stage="initial", closed=None, actual=None):
            o = Opportunity(code=c.code + code, customer_id=c.id, name=code, stage=stage, owner_id=owner.id,
                            expected_amount=Decimal(expected), actual_amount=actual, created_at=created,
                            updated_at=created)
            s.add(o)
            s.flush()
            if closed:
                s.add(OpportunityStage(opportunity_id=o.id, from_stage="negotiation", to_stage=stage, at=closed))

        opp("OP01", alice, 450000, datetime(2026, 11, 10, tzinfo=UTC), "won", mon + timedelta(days=2),
            Decimal(500000))
        opp("OP02", bob, 80000, datetime(2026, 11, 12, tzinfo=UTC), "lost", mon + timedelta(days=3))
        opp("OP03", alice, 100000, datetime(2026, 11, 1, tzinfo=UTC))
        opp("OP04", mary, 200000, mon + timedelta(days=1))  # the manager's own counts for the team's pipeline
        opp("OP05", alice, 999999, datetime(2026, 10, 1, tzinfo=UTC), "won", datetime(2026, 10, 5, tzinfo=UTC),
            Decimal(900000))  # won before the week


def test_weekly_summary_monday_after_nine_once_with_the_weeks_figures(team, core, settings):
    week_data(core)
    e = core.engine
    assert run(e, settings, "weekly_summary", NINE - timedelta(minutes=5)) == 0
    assert run(e, settings, "weekly_summary", NINE) == 1
    assert run(e, settings, "weekly_summary", NINE + timedelta(hours=2)) == 0
    assert run(e, settings, "weekly_summary", NINE + timedelta(days=1)) == 0  # Tuesday: nothing
    (row,) = rows(e, "weekly:")
    assert row.key == f"weekly:{team['mary']}:2026-11-23" and row.chat_ref == "@mary"
    reply = from_json(row.payload)
    assert says(reply.text, "team.week.title", start="2026-11-16", end="2026-11-22")
    (fields,) = [v for v in reply.views if isinstance(v, Fields)]
    assert dict(fields.items) == {
        "alice": t("en", "team.week.rep_row", contacts=4, calls=3, won=1, amount="¥500,000", lost=0, overdue=1),
        "bob": t("en", "team.week.rep_row", contacts=0, calls=0, won=0, amount="¥0", lost=1, overdue=0)}
    lines = [v.text for v in reply.views if isinstance(v, Text)]
    assert t("en", "team.week.deals", won=1, amount="¥500,000", lost=1) in lines
    # open at the start: OP01 450k, OP02 80k, OP03 100k; at the end: OP03 100k, OP04 200k
    assert t("en", "team.week.pipeline", n=2, amount="¥300,000", n0=3, change="−¥330,000") in lines
    assert t("en", "team.week.overdue", n=1) in lines
    assert run(e, settings, "weekly_summary", NINE + timedelta(days=7)) == 1  # next Monday


def test_weekly_summary_carries_the_teams_funnel_chart_in_the_managers_language(team, core, settings, monkeypatch):
    week_data(core)
    with session_scope(core.engine) as s:
        s.get(Staff, team["mary"]).lang = "zh"
        zed = s.scalar(select(Staff).where(Staff.name == "zed"))
        c = f.customer(s, name="West Co", owner=zed)
        s.add(Opportunity(code=c.code + "OP09", customer_id=c.id, name="west", stage="initial", owner_id=zed.id,
                          created_at=f.NOW - timedelta(days=20), updated_at=f.NOW))  # another team's: not counted
    figs = []
    real = charts.funnel
    monkeypatch.setattr(charts, "funnel", lambda **kw: figs.append((kw, real(**kw))) or figs[-1][1])
    assert run(core.engine, settings, "weekly_summary", NINE) == 1
    (row,) = rows(core.engine, "weekly:")
    reply = from_json(row.payload)
    assert reply.file is not None and reply.file.mime == "image/png" and reply.file.name.startswith("funnel-")
    assert Path(reply.file.path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert reply.file.title == t("zh", "opp.rep.title", start="2026-01-01", end="2026-11-22")
    (kw, fig), = figs
    # created this year by the team (mary's own included): OP01 won, OP02 lost at negotiation, OP03 and OP04
    # open at the first stage, OP05 won
    assert kw["counts"] == [5, 3, 3, 3, 2]
    assert kw["labels"][0] == enum_label("zh", "stage", "initial")
    assert enum_label("zh", "stage", "won") in check_cjk_figure(fig)


def test_weekly_summary_without_opportunities_has_no_chart(team, core, settings):
    with session_scope(core.engine) as s:
        alice = s.scalar(select(Staff).where(Staff.name == "alice"))
        c = s.scalar(select(Customer).where(Customer.name == "Late Grade A"))
        s.add(FollowUp(customer_id=c.id, date=NINE - timedelta(days=3), method="phone", content="quote sent",
                       staff_id=alice.id, created_at=NINE - timedelta(days=3)))
    assert run(core.engine, settings, "weekly_summary", NINE) == 1
    (row,) = rows(core.engine, "weekly:")
    assert from_json(row.payload).file is None  # an empty funnel is not worth a picture


def test_a_missed_first_contact_is_listed_once_not_also_behind_cadence(core, settings):
    with session_scope(core.engine) as s:
        mary = f.staff(s, name="mary", role="manager")
        alice = f.staff(s, name="alice", manager=mary)
        lead = f.customer(s, name="Hot Lead", owner=alice, type="potential", grade="A",
                          now=f.NOW - timedelta(days=3))
    quick = settings.model_copy(update={"cadence_a_days": 2})  # the lead is also behind A's cadence
    assert run(core.engine, quick, "team_alert", NINE) == 1
    reply = from_json(rows(core.engine, "team_alert:")[0].payload)
    items = [i.text for v in reply.views if isinstance(v, ListPage) for i in v.items]
    assert items == [f"{lead.code} Hot Lead"]
    assert says(reply.text, "team.alert.summary", missed=1, behind=0, reps=1)
