"""followup_digest and cadence: each rep's digest at their own local reminder time, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from handlers.i18n import t
from handlers.views import Buttons, ListPage, from_json
from scheduler import runner
from scheduler.jobs import digest
from storage.db import session_scope
from storage.models import Customer, FollowUp, Outbox
from tests import factories as f

CHANNELS = {"console": "#service"}


def followup(s, cust, staff, *, due: datetime, content: str = "call about the quote", done=None, deleted=None):
    fu = FollowUp(customer_id=cust.id, date=due - timedelta(days=3), method="phone", content=content,
                  next_followup_at=due, staff_id=staff.id, created_at=due - timedelta(days=3), done_at=done,
                  deleted_at=deleted)
    s.add(fu)
    cust.last_followup_at = due - timedelta(days=3)
    cust.next_followup_at = due
    s.flush()
    return fu


def run(engine, settings, now) -> int:
    return runner.run_job(engine, "followup_digest", now=now, settings=settings, channels=CHANNELS)


def rows(engine, status=None) -> list[Outbox]:
    with session_scope(engine) as s:
        q = select(Outbox).order_by(Outbox.id)
        if status:
            q = q.where(Outbox.status == status)
        return list(s.scalars(q))


def setup_two_zones(engine):
    with session_scope(engine) as s:
        alice = f.staff(s, name="alice", tz="Asia/Shanghai")
        bob = f.staff(s, name="bob", tz="Europe/London")
        ca = f.customer(s, name="Acme", owner=alice)
        cb = f.customer(s, name="Beta", owner=bob)
        followup(s, ca, alice, due=f.NOW - timedelta(days=1))
        followup(s, cb, bob, due=f.NOW - timedelta(days=1))
        return alice.id, bob.id


def test_digest_two_time_zones_each_at_their_own_nine(engine, settings):
    alice, bob = setup_two_zones(engine)
    # 08:59 in Shanghai (00:59 UTC): nobody yet
    assert run(engine, settings, datetime(2026, 11, 23, 0, 59, tzinfo=UTC)) == 0
    # 09:00 in Shanghai: alice only
    assert run(engine, settings, datetime(2026, 11, 23, 1, 0, tzinfo=UTC)) == 1
    assert [r.key for r in rows(engine, "pending")] == [f"digest:{alice}:2026-11-23"]
    # 08:59 in London (08:59 UTC): still only alice
    assert run(engine, settings, datetime(2026, 11, 23, 8, 59, tzinfo=UTC)) == 0
    # 09:00 in London: bob; alice (17:00 local) gets nothing more
    assert run(engine, settings, datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) == 1
    assert [r.key for r in rows(engine, "pending")] == [f"digest:{alice}:2026-11-23", f"digest:{bob}:2026-11-23"]
    # next morning in Shanghai: a new day's digest for alice
    assert run(engine, settings, datetime(2026, 11, 24, 1, 0, tzinfo=UTC)) == 1
    assert rows(engine)[-1].key == f"digest:{alice}:2026-11-24"


def test_digest_job_run_twice_writes_once(engine, settings):
    setup_two_zones(engine)
    at = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)
    assert run(engine, settings, at) == 2
    assert run(engine, settings, at) == 0
    assert run(engine, settings, at + timedelta(minutes=1)) == 0
    assert len(rows(engine)) == 2


def test_digest_missed_nine_oclock_is_caught_up_once(engine, settings):
    alice, _ = setup_two_zones(engine)
    # the bot was down from 08:00 to 11:30 Shanghai time: the first run after it comes back sends
    back = datetime(2026, 11, 23, 3, 30, tzinfo=UTC)
    assert run(engine, settings, back) == 1
    assert run(engine, settings, back + timedelta(minutes=1)) == 0
    assert [r.key for r in rows(engine)] == [f"digest:{alice}:2026-11-23"]


def test_digest_nothing_due_sends_nothing_and_no_late_digest(engine, settings):
    with session_scope(engine) as s:
        carol = f.staff(s, name="carol")
        c = f.customer(s, name="Gamma", owner=carol)
        followup(s, c, carol, due=f.NOW + timedelta(days=3))  # not due yet
        carol_id, cid = carol.id, c.id
    assert run(engine, settings, f.NOW) == 0
    assert rows(engine, "pending") == []
    # later that day a follow-up for today appears: no second, late digest that day
    with session_scope(engine) as s:
        followup(s, s.get(Customer, cid), s.get(f.Staff, carol_id), due=f.NOW + timedelta(hours=4))
    assert run(engine, settings, f.NOW + timedelta(hours=1)) == 0
    assert rows(engine, "pending") == []
    # the next morning it is in the digest
    assert run(engine, settings, f.NOW + timedelta(days=1)) == 1


def test_digest_groups_overdue_today_and_cadence_with_buttons(engine, settings):
    with session_scope(engine) as s:
        rep = f.staff(s, name="dave")
        old = f.customer(s, name="Overdue Co", owner=rep)
        today = f.customer(s, name="Today Co", owner=rep)
        lagging = f.customer(s, name="Lagging Co", owner=rep, grade="A", now=f.NOW - timedelta(days=40))
        lagging.last_followup_at = f.NOW - timedelta(days=10)  # A: every 7 days
        fine = f.customer(s, name="Fine Co", owner=rep, grade="C", now=f.NOW - timedelta(days=40))
        fine.last_followup_at = f.NOW - timedelta(days=10)  # C: every 30 days
        fu_old = followup(s, old, rep, due=f.NOW - timedelta(days=2))
        fu_today = followup(s, today, rep, due=f.NOW + timedelta(hours=5))  # 15:00 local
        followup(s, today, rep, due=f.NOW - timedelta(days=5), done=f.NOW - timedelta(days=4))  # done
        followup(s, old, rep, due=f.NOW - timedelta(days=6), deleted=f.NOW - timedelta(days=6))  # undone
        ids = (fu_old.id, fu_today.id, old.code, today.code, lagging.code)
    assert run(engine, settings, f.NOW) == 1
    (row,) = rows(engine)
    reply = from_json(row.payload)
    lists = [v for v in reply.views if isinstance(v, ListPage)]
    assert [v.title for v in lists] == [t("en", f"job.digest.{k}", n=1) for k in ("overdue", "today", "cadence")]
    assert [i.text.split()[0] for i in lists[0].items + lists[1].items + lists[2].items] == [ids[2], ids[3], ids[4]]
    cmds = [b.action.cmd for b in lists[0].items[0].buttons]
    assert cmds == [f"/followups done {ids[0]}", f"/followups snooze {ids[0]} 1d", f"/followups snooze {ids[0]} 3d",
                    f"/followups snooze {ids[0]} 1w", f"/log {ids[2]}"]
    assert [b.action.cmd for b in lists[2].items[0].buttons] == [f"/log {ids[4]}"]
    assert any(isinstance(v, Buttons) and v.buttons[0].action.cmd == "/followups" for v in reply.views)
    assert row.platform == "console" and row.chat_ref == "@dave"


def test_digest_many_items_are_capped_with_a_followups_hint(engine, settings):
    with session_scope(engine) as s:
        rep = f.staff(s, name="erin", lang="zh")
        for i in range(40):
            c = f.customer(s, name=f"Cust {i}", owner=rep)
            followup(s, c, rep, due=f.NOW - timedelta(days=1, minutes=i))
    assert run(engine, settings, f.NOW) == 1
    reply = from_json(rows(engine)[0].payload)
    lists = [v for v in reply.views if isinstance(v, ListPage)]
    assert sum(len(v.items) for v in lists) == digest.MAX_ITEMS
    assert lists[0].total == 40
    assert "/followups" in reply.views[-2].text and "25" in reply.views[-2].text
    assert reply.views[0].text.endswith("的跟进提醒")


def test_digest_pool_customers_and_other_owners_are_not_listed(engine, settings):
    with session_scope(engine) as s:
        a = f.staff(s, name="fay")
        b = f.staff(s, name="gus")
        c = f.customer(s, name="Handed over", owner=a)
        fu = followup(s, c, a, due=f.NOW - timedelta(days=1))
        c.owner_id = fu.assignee_id = b.id  # handed over: the new owner owes (and gets the reminder)
        pool = f.customer(s, name="In the pool", owner=a)
        fu = followup(s, pool, a, due=f.NOW - timedelta(days=1))
        pool.owner_id = fu.assignee_id = None  # returned to the pool: nobody owes it
        b_id = b.id
    assert run(engine, settings, f.NOW) == 1
    (row,) = rows(engine, "pending")
    assert row.staff_id == b_id


def test_digest_one_bad_staff_record_does_not_stop_the_others(engine, settings):
    with session_scope(engine) as s:
        bad = f.staff(s, name="hal")
        bad.reminder_time = "xx:yy"
        good = f.staff(s, name="ivy")
        for st in (bad, good):
            followup(s, f.customer(s, name=f"C of {st.name}", owner=st), st, due=f.NOW - timedelta(days=1))
        good_id = good.id
    assert run(engine, settings, f.NOW) == 1
    assert [r.staff_id for r in rows(engine)] == [good_id]


def test_cadence_job_counts_and_sends_nothing(engine, settings):
    with session_scope(engine) as s:
        rep = f.staff(s, name="jon")
        for grade, days in (("A", 8), ("B", 10), ("C", 31)):
            c = f.customer(s, name=f"{grade} co", owner=rep, grade=grade, now=f.NOW - timedelta(days=60))
            c.last_followup_at = f.NOW - timedelta(days=days)
    assert runner.run_job(engine, "cadence", now=f.NOW, settings=settings, channels=CHANNELS) == 2
    assert rows(engine) == []
