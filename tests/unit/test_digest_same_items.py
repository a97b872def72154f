"""The morning digest built from two grouped statements shows what the per-rep reads showed (the digest as it was
before it was made to scale), on a fixed, varied data set, on SQLite and PostgreSQL: the same sections, items,
details, totals and "more" line for every rep, and the cadence job's count."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import and_, exists, or_, select

from handlers import paging
from handlers.cards.reminders import Due, digest
from handlers.views import ListPage, Text, from_json
from scheduler import runner
from scheduler.jobs.digest import reminder_passed
from storage.db import session_scope
from storage.models import Customer, FollowUp, Outbox, Staff
from storage.repos import followups as followup_repo
from tests import factories as f

AT = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)  # past nine in Shanghai, London and New York


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request, engine):
    return request.getfixturevalue("pg_db") if request.param == "postgresql" else engine


def populate(engine) -> None:
    rnd = random.Random(13)
    with session_scope(engine) as s:
        reps = [f.staff(s, name=n, tz=tz, lang=lang) for n, tz, lang in
                (("ana", "Asia/Shanghai", "en"), ("bo", "Europe/London", "zh"), ("cy", "America/New_York", "en"),
                 ("dee", "Asia/Shanghai", "zh"))]
        busy = reps[0]
        for i in range(90):
            owner = None if i % 17 == 0 else (busy if i % 3 == 0 else rnd.choice(reps))
            created = AT - timedelta(days=rnd.randint(1, 90), hours=rnd.randint(0, 23))
            c = f.customer(s, name=f"Cust {i:02d}", owner=owner, grade=rnd.choice("ABCC"),
                           type=rnd.choice(("intent", "deal", "potential", "lost")), now=created)
            c.last_followup_at = rnd.choice((None, AT - timedelta(days=rnd.randint(0, 60), minutes=i)))
            for _ in range(rnd.randint(0, 3)):
                due = AT + timedelta(days=rnd.randint(-6, 4), hours=rnd.randint(-12, 12), minutes=i)
                kind = rnd.random()
                by = owner or rnd.choice(reps)
                assignee = None if owner is None else (rnd.choice(reps) if kind < 0.1 else owner).id
                s.add(FollowUp(customer_id=c.id, date=due - timedelta(days=3), method=rnd.choice(("phone", "visit")),
                               content=f"about the quote {i}", next_followup_at=due, staff_id=by.id,
                               assignee_id=assignee, created_at=due - timedelta(days=3),
                               done_at=due if 0.1 <= kind < 0.2 else None,
                               deleted_at=due if 0.2 <= kind < 0.25 else None))
            s.flush()
        for i in range(20):  # one rep with more than a digest can show
            c = f.customer(s, name=f"Busy {i:02d}", owner=busy, grade="A", now=AT - timedelta(days=30))
            s.add(FollowUp(customer_id=c.id, date=AT - timedelta(days=9), method="phone", content="late",
                           next_followup_at=AT - timedelta(days=1, minutes=i), staff_id=busy.id,
                           assignee_id=busy.id, created_at=AT - timedelta(days=9)))


def old_behind(s, settings, now: datetime, owner: Staff | None = None) -> list[Customer]:
    """Customers behind their grade's cadence as the digest found them before: every quiet one, filtered here."""
    older = timedelta(days=min(settings.cadence_a_days, settings.cadence_b_days, settings.cadence_c_days))
    planned = exists().where(FollowUp.customer_id == Customer.id, FollowUp.next_followup_at >= now,
                             FollowUp.done_at.is_(None), FollowUp.deleted_at.is_(None))
    q = (select(Customer).where(
        Customer.owner_id.is_not(None), Customer.type != "lost", ~planned,
        or_(and_(Customer.last_followup_at.is_(None), Customer.created_at < now - older),
            Customer.last_followup_at < now - older)).order_by(Customer.last_followup_at, Customer.id))
    if owner is not None:
        q = q.where(Customer.owner_id == owner.id)
    return [c for c in s.scalars(q)
            if (c.last_followup_at or c.created_at) < now - timedelta(days=settings.cadence_days(c.grade))]


def old_due(s, st: Staff, settings, now: datetime, local_now: datetime) -> Due:
    """The digest's reads before they were grouped: every due item and every quiet customer, per rep."""
    midnight = datetime.combine(local_now.date(), time(0), local_now.tzinfo)
    items = followup_repo.list_due(s, owner_ids={st.id}, before=midnight + timedelta(days=1))
    listed = {c.id for _, c in items}
    behind = [c for c in old_behind(s, settings, now, st) if c.id not in listed]
    return Due([(fu, c) for fu, c in items if fu.next_followup_at < midnight],
               [(fu, c) for fu, c in items if fu.next_followup_at >= midnight], behind)


def shown(reply) -> list:
    out = []
    for v in reply.views:
        if isinstance(v, ListPage):
            out.append((v.title, v.total, [(i.text, i.detail, [b.action.cmd for b in i.buttons]) for i in v.items]))
        elif isinstance(v, Text):
            out.append(v.text)
    return out


def test_the_grouped_digest_shows_what_the_per_rep_reads_showed(any_engine, settings):
    populate(any_engine)
    expected = {}
    with session_scope(any_engine) as s:
        for st in s.scalars(select(Staff).order_by(Staff.id)):
            _, local_now = reminder_passed(st, AT, settings)
            due = old_due(s, st, settings, AT, local_now)
            if len(due):
                expected[st.id] = shown(paging.labelled(digest(st, due, settings, now=AT, local_now=local_now),
                                                        st.lang))
        cadence = len(old_behind(s, settings, AT))
    assert len(expected) == 4 and max(len(e) for e in expected.values()) >= 4  # some rep's digest has a "more"
    assert runner.run_job(any_engine, "followup_digest", now=AT, settings=settings, channels={}) == 4
    with session_scope(any_engine) as s:
        got = {r.staff_id: shown(from_json(r.payload)) for r in s.scalars(select(Outbox).where(
            Outbox.status == "pending"))}
    assert got == expected
    assert runner.run_job(any_engine, "cadence", now=AT, settings=settings, channels={}) == cadence > 0
