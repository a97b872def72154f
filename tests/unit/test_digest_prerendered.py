"""The digest's outbox payload made from JSON templates (`views.Template` → `Prerendered` items) is, byte for byte,
what `to_json` writes for the digest built view by view; items whose commands do not fit a token stay views; and the
customers behind their cadence are read only for reps with room left, their counts for everyone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace as Row
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handlers import paging
from handlers.cards.reminders import MAX_ITEMS, Due, digest
from handlers.views import (
    Action,
    Button,
    ListItem,
    ListPage,
    Prerendered,
    Reply,
    Template,
    from_json,
    to_json,
    walk_actions,
)
from scheduler import runner
from scheduler.jobs.digest import last_before
from storage.db import session_scope
from storage.models import Customer, FollowUp, Outbox
from storage.repos import reminders as repo
from tests import factories as f

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
ODD = ('he said "hi"\n\\ back', "中文 — ok", "tab\there \x00 nul \u2028 sep", "", "{n} not a slot", "😀")


def item(text: str, detail: str, cmd: str) -> ListItem:
    return ListItem(text=text, detail=detail, buttons=(Button("Go", Action(f"/log {cmd}"), "primary"),
                                                     Button(detail, Action(cmd))))


@pytest.mark.parametrize("text", ODD)
def test_a_filled_template_is_what_to_json_writes_for_the_view_made_with_those_values(text):
    tp = Template(item, 3)
    filled = tp.fill(text, f"{text}!", "42")
    page = ListPage(title="t", items=(item(text, f"{text}!", "42"),))
    assert to_json(Reply(views=(page,))) == to_json(Reply(views=(ListPage(title="t", items=(filled,)),)))
    assert from_json(to_json(Reply(views=(ListPage(title="t", items=(filled, filled)),)))).views[0].items == (
        item(text, f"{text}!", "42"),) * 2


def test_a_reply_without_prerendered_items_is_dumped_as_before():
    r = Reply(views=(ListPage(title="\x00prerendered\x000\x00prerendered\x00 in a title", items=()),), text="x")
    assert from_json(to_json(r)) == r


def due_rows(n: int, code: str = "ABC2026{:04d}") -> list:
    rows = []
    for i in range(n):
        r = Row(id=1000 + i, next_followup_at=NOW - timedelta(days=1, minutes=7 * i), method="phone" if i % 2 else "visit",
                content=f"{ODD[i % len(ODD)]} " * (i % 9), code=code.format(i), name=f"Acme {ODD[i % len(ODD)]}")
        rows.append((r, r))
    return rows


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_prerendered_digest_payload_is_the_one_built_view_by_view(lang, settings):
    staff = Row(id=5, lang=lang)
    local_now = NOW.astimezone(ZoneInfo("Asia/Shanghai"))
    rows = due_rows(12)
    rows[3] = (Row(**{**vars(rows[3][0]), "code": "客户2026" + "9" * 40}),) * 2  # its /log does not fit a token
    behind = [Row(code=f"B{i}", name=f"Quiet {i}", grade="A", last_followup_at=None, created_at=NOW - timedelta(days=40))
              for i in range(5)]
    due = Due(overdue=rows[:8], today=rows[8:], behind=behind, counts=(30, 4, 70))
    built = digest(staff, due, settings, now=NOW, local_now=local_now)
    fast = digest(staff, due, settings, now=NOW, local_now=local_now, prerender=True)
    items = [i for v in fast.views if isinstance(v, ListPage) for i in v.items]
    assert sum(type(i) is Prerendered for i in items) == 11 and type(items[3]) is ListItem
    assert to_json(paging.labelled(fast, lang)) == to_json(paging.labelled(built, lang))
    views_only = [b.action.cmd for v, w in zip(built.views, fast.views, strict=True) if isinstance(v, ListPage)
                  for i, j in zip(v.items, w.items, strict=True) if type(j) is ListItem for b in i.buttons]
    assert [a.cmd for a in walk_actions(fast)] == [*views_only, "/followups"]  # prerendered ones all fit
    assert len(views_only) == 5 + 3 and views_only[0] == "/followups done 1003"


def test_a_digest_whose_log_command_does_not_fit_a_token_is_written_with_its_action_stored(engine, settings):
    with session_scope(engine) as s:
        rep = f.staff(s, name="ivy")
        c = f.customer(s, name="Acme", owner=rep)
        c.code = "客户" + "9" * 40
        s.add(FollowUp(customer_id=c.id, date=NOW - timedelta(days=3), method="phone", content="quote",
                       next_followup_at=NOW - timedelta(days=1), staff_id=rep.id, assignee_id=rep.id,
                       created_at=NOW - timedelta(days=3)))
    assert runner.run_job(engine, "followup_digest", now=NOW, settings=settings, channels={}) == 1
    with session_scope(engine) as s:
        reply = from_json(s.scalar(select(Outbox.payload)))
    cmds = [a.cmd for a in walk_actions(reply)]
    assert any(cmd.startswith("#") for cmd in cmds) and "/followups" in cmds  # the long /log stored as a ref


def test_behind_cadence_reads_the_first_ones_only_for_the_reps_asked_and_counts_for_all(engine, settings):
    with session_scope(engine) as s:
        reps = [f.staff(s, name=n) for n in ("ann", "ben", "cat")]
        for i in range(6):
            for r in reps[:2]:
                c = f.customer(s, name=f"Quiet {r.name} {i}", owner=r, grade="A", now=NOW - timedelta(days=90))
                c.last_followup_at = NOW - timedelta(days=60, minutes=i)
        ids = {r.id for r in reps}
        s.flush()
        args = dict(owner_ids=ids, now=NOW, last_before=last_before(settings, NOW), listed_before=NOW, first=4)
        every = repo.behind_cadence(s, **args)
        some = repo.behind_cadence(s, **args, first_of={reps[0].id, reps[2].id})
        assert {k: v[1] for k, v in some.items()} == {k: v[1] for k, v in every.items()} == {
            reps[0].id: 6, reps[1].id: 6, reps[2].id: 0}
        assert some[reps[0].id][0] == every[reps[0].id][0] and len(every[reps[0].id][0]) == 4
        assert some[reps[1].id][0] == [] and every[reps[1].id][0] and some[reps[2].id] == ([], 0)


def test_a_rep_with_more_than_max_items_due_sees_the_first_ones_and_all_the_counts(engine, settings):
    with session_scope(engine) as s:
        rep = f.staff(s, name="dan")
        for i in range(MAX_ITEMS + 5):
            c = f.customer(s, name=f"Due {i:02d}", owner=rep, grade="A", now=NOW - timedelta(days=90))
            c.last_followup_at = NOW - timedelta(days=60)  # behind too: listed once, as due
            s.add(FollowUp(customer_id=c.id, date=NOW - timedelta(days=60), method="phone", content=f"n{i}",
                           next_followup_at=NOW - timedelta(days=1, minutes=i), staff_id=rep.id,
                           assignee_id=rep.id, created_at=NOW - timedelta(days=60)))
        for i in range(3):  # behind, nothing due: counted, not shown (no room)
            c = f.customer(s, name=f"Quiet {i}", owner=rep, grade="A", now=NOW - timedelta(days=90))
            c.last_followup_at = NOW - timedelta(days=50)
        codes = [c.code for c in s.scalars(select(Customer).join(FollowUp, FollowUp.customer_id == Customer.id)
                                           .order_by(FollowUp.next_followup_at, FollowUp.id))]
    assert runner.run_job(engine, "followup_digest", now=NOW, settings=settings, channels={}) == 1
    with session_scope(engine) as s:
        reply = from_json(s.scalar(select(Outbox.payload)))
    lists = [v for v in reply.views if isinstance(v, ListPage)]
    assert [(v.total, [i.text.split()[0] for i in v.items]) for v in lists] == [(MAX_ITEMS + 5, codes[:MAX_ITEMS])]
    assert "20 overdue, 0 due today, 3 behind" in reply.text


@pytest.mark.parametrize(("tz", "at", "shown"), [
    ("Asia/Shanghai", datetime(2026, 3, 5, 1, 7, tzinfo=UTC), "03-05 09:07"),  # zero-padded month, day, minute
    ("America/New_York", datetime(2026, 7, 1, 3, 0, tzinfo=UTC), "06-30 23:00"),  # summer time, the day before
    ("America/New_York", datetime(2026, 12, 31, 23, 59, tzinfo=UTC), "12-31 18:59"),
])
@pytest.mark.parametrize("prerender", [False, True])
def test_an_item_shows_when_it_is_due_in_the_reps_zone(tz, at, shown, prerender, settings):
    r = Row(id=7, next_followup_at=at, method="phone", content="quote", code="ABC20260001", name="Acme")
    due = Due(overdue=[(r, r)], today=[], behind=[])
    reply = digest(Row(id=5, lang="en"), due, settings, now=at, local_now=at.astimezone(ZoneInfo(tz)),
                   prerender=prerender)
    items = [i for v in from_json(to_json(reply)).views if isinstance(v, ListPage) for i in v.items]
    assert [i.detail for i in items] == [f"{shown}, phone: quote"]
