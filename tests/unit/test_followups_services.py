"""handlers.services.followups: permissions, consistency of the customer's follow-up times, snooze rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from handlers.context import Ctx
from handlers.errors import Forbidden, InvalidInput, NotFound
from handlers.services import followups as svc
from tests import factories as f
from tests.factories import NOW


def ctx_for(session, settings, staff, now=NOW) -> Ctx:
    return Ctx(session=session, now=now, settings=settings, platform="console", chat_ref=f"@{staff.name}",
               user_ref=staff.name, lang=staff.lang, staff=staff)


@pytest.fixture
def people(session):
    mgr = f.staff(session, name="mary", role="manager", team="east")
    return {
        "mgr": mgr,
        "alice": f.staff(session, name="alice", manager=mgr),
        "carl": f.staff(session, name="carl", manager=mgr),
        "bob": f.staff(session, name="bob", team="west"),
        "west_mgr": f.staff(session, name="walt", role="manager", team="west"),
        "admin": f.staff(session, name="root", role="admin", team=None),
        "agent": f.staff(session, name="agnes", role="agent", team="service"),
        "sup": f.staff(session, name="sue", role="supervisor", team="service"),
    }


@pytest.mark.parametrize(("actor", "owner", "outcome"), [
    ("alice", "alice", "ok"),
    ("alice", "carl", NotFound),  # a colleague's customer: as if it did not exist
    ("alice", None, NotFound),  # the pool
    ("mgr", "alice", "ok"),
    ("mgr", None, "ok"),
    ("mgr", "bob", NotFound),
    ("west_mgr", "alice", NotFound),
    ("admin", "bob", "ok"),
    ("agent", "alice", Forbidden),  # sees the customer, may not touch sales data
    ("sup", "alice", Forbidden),
])
def test_followups_log_permissions(session, settings, people, actor, owner, outcome) -> None:
    c = f.customer(session, name="Matrix Ltd", owner=people[owner] if owner else None)
    ctx = ctx_for(session, settings, people[actor])
    if outcome == "ok":
        fu = svc.log_followup(ctx, customer=c, method="phone", content="hi")
        assert fu.staff_id == people[actor].id and c.last_followup_at == NOW
    else:
        with pytest.raises(outcome):
            svc.log_followup(ctx, customer=c, method="phone", content="hi")


def test_followups_customer_times_stay_consistent(session, settings, people) -> None:
    c = f.customer(session, name="Consistent Co", owner=people["alice"])
    ctx = ctx_for(session, settings, people["alice"])
    first = svc.log_followup(ctx, customer=c, method="phone", content="1", next_at=NOW + timedelta(days=5))
    assert c.next_followup_at == NOW + timedelta(days=5)
    second = svc.log_followup(ctx, customer=c, method="visit", content="2", next_at=NOW + timedelta(days=9),
                              date=NOW - timedelta(days=1))  # back-dated visit
    assert first.done_at == NOW and second.done_at is None
    assert c.next_followup_at == NOW + timedelta(days=9)
    assert c.last_followup_at == NOW  # the back-dated one is not the latest
    ctx.now = NOW + timedelta(minutes=1)
    svc.undo_followup(ctx, second.id)
    assert first.done_at is None and c.next_followup_at == NOW + timedelta(days=5)
    assert c.last_followup_at == NOW
    third = svc.log_followup(ctx, customer=c, method="email", content="3")
    assert c.next_followup_at is None and c.last_followup_at == ctx.now
    assert [x.id for x in svc.recent_followups(session, c.id)] == [third.id, first.id]
    assert len(svc.recent_followups(session, c.id, n=1)) == 1


def test_followups_log_updates_the_customer_row_once(session, settings, people) -> None:
    """A /log changes the customer once (updated_at with its last/next follow-up times): on PostgreSQL every
    extra row version of a customer re-indexes its name in the trigram index."""
    c = f.customer(session, name="Once Co", owner=people["alice"])
    session.flush()
    ctx = ctx_for(session, settings, people["alice"], now=NOW + timedelta(minutes=5))
    updates: list[str] = []
    listen = (session.get_bind(), "before_cursor_execute",
              lambda *a: updates.append(a[2]) if a[2].lstrip().upper().startswith("UPDATE CUSTOMER") else None)
    event.listen(*listen)
    try:
        svc.log_followup(ctx, customer=c, method="phone", content="1", next_at=NOW + timedelta(days=5))
    finally:
        event.remove(*listen)
    assert len(updates) == 1 and all(k in updates[0] for k in ("updated_at", "last_followup_at", "next_followup_at"))
    assert (c.updated_at, c.last_followup_at, c.next_followup_at) == (ctx.now, ctx.now, NOW + timedelta(days=5))


@pytest.mark.parametrize(("kwargs", "key"), [
    ({"method": "fax"}, "fu.bad_method"),
    ({"feedback": "meh"}, "fu.bad_feedback"),
    ({"result": "won"}, "fu.bad_result"),
    ({"content": "  "}, "fu.no_content"),
    ({"content": "x" * 5000}, "fu.too_long"),
    ({"next_at": NOW - timedelta(hours=1)}, "when.past"),
])
def test_followups_log_validates(session, settings, people, kwargs, key) -> None:
    c = f.customer(session, name="Valid Co", owner=people["alice"])
    args = {"method": "phone", "content": "ok", **kwargs}
    with pytest.raises(InvalidInput) as e:
        svc.log_followup(ctx_for(session, settings, people["alice"]), customer=c, **args)
    assert e.value.key == key
    assert c.last_followup_at is None


def test_followups_snooze_is_relative_to_today_and_never_earlier(session, settings, people) -> None:
    c = f.customer(session, name="Snooze Co", owner=people["alice"])
    ctx = ctx_for(session, settings, people["alice"])
    due = NOW + timedelta(days=3, hours=5)  # Thursday 15:00 local
    fu = svc.log_followup(ctx, customer=c, method="phone", content="x", next_at=due)
    assert svc.snooze(ctx, fu.id, "1d")[2] is False and fu.next_followup_at == due  # already later
    _, _, changed = svc.snooze(ctx, fu.id, "1w")
    assert changed and fu.next_followup_at == NOW + timedelta(days=7, hours=5)  # next Monday 15:00
    assert c.next_followup_at == fu.next_followup_at
    with pytest.raises(InvalidInput):
        svc.snooze(ctx, fu.id, "2y")


def test_followups_done_without_schedule_changes_nothing(session, settings, people) -> None:
    c = f.customer(session, name="Done Co", owner=people["alice"])
    ctx = ctx_for(session, settings, people["alice"])
    fu = svc.log_followup(ctx, customer=c, method="phone", content="x")
    assert svc.mark_done(ctx, fu.id)[2] is False and fu.done_at is None


@pytest.mark.parametrize(("grade", "tz", "expected"), [
    ("A", "Asia/Shanghai", "2026-11-30 09:00"),
    ("B", "Asia/Shanghai", "2026-12-07 09:00"),
    ("C", "Asia/Shanghai", "2026-12-23 09:00"),
    ("A", "America/New_York", "2026-11-29 09:00"),  # it is still Sunday the 22nd there
])
def test_followups_cadence_proposal(session, settings, people, grade, tz, expected) -> None:
    people["alice"].tz = tz
    c = f.customer(session, name="Cadence Co", owner=people["alice"], grade=grade)
    ctx = ctx_for(session, settings, people["alice"])
    assert ctx.fmt_dt(svc.cadence_proposal(ctx, c)) == expected


def test_followups_get_followup_hides_others(session, settings, people) -> None:
    c = f.customer(session, name="Hidden Co", owner=people["alice"])
    fu = svc.log_followup(ctx_for(session, settings, people["alice"]), customer=c, method="phone", content="x")
    for who in ("carl", "bob", "agent"):
        with pytest.raises(NotFound):
            svc.get_followup(ctx_for(session, settings, people[who]), fu.id)
    with pytest.raises(NotFound):
        svc.get_followup(ctx_for(session, settings, people["alice"]), "abc")
    assert svc.get_followup(ctx_for(session, settings, people["mgr"]), fu.id)[0] is fu


def test_followups_locale_files_have_the_same_keys() -> None:
    import json
    from pathlib import Path

    base = Path(svc.__file__).parents[1] / "locales"
    en = json.loads((base / "en" / "followups.json").read_text(encoding="utf-8"))
    zh = json.loads((base / "zh" / "followups.json").read_text(encoding="utf-8"))
    assert en.keys() == zh.keys()
    assert all(k.startswith(("fu.", "when.", "report.name.")) for k in en)
