"""first_contact: a new lead with no follow-up → owner after 20 h (CRM_FIRST_CONTACT_REMIND), manager (or the admins)
when the 24 h window has passed (CRM_FIRST_CONTACT_WINDOW), each once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from scheduler import runner
from storage.db import session_scope
from storage.models import Customer, FollowUp, Outbox, Staff
from tests import factories as f

CHANNELS = {"console": "#service"}


def run(engine, settings, now) -> int:
    return runner.run_job(engine, "first_contact", now=now, settings=settings, channels=CHANNELS)


def keys(engine) -> list[tuple[str, str]]:
    with session_scope(engine) as s:
        return [(r.key.split(":")[0], r.chat_ref) for r in s.scalars(select(Outbox).order_by(Outbox.id))]


def lead(engine, *, manager=True, type="potential"):
    with session_scope(engine) as s:
        boss = f.staff(s, name="boss", role="manager") if manager else None
        rep = f.staff(s, name="rita", manager=boss)
        c = f.customer(s, name="New Lead Ltd", owner=rep, type=type)
        return c.id, rep.id


def control(engine, rep_id: int, *, created=f.NOW) -> int:
    """A fresh lead of the same rep beside the case under test: it gets the reminders that case must not."""
    with session_scope(engine) as s:
        return f.customer(s, name="Control Lead Ltd", owner=s.get(Staff, rep_id), type="potential", now=created).id


def reminded(engine) -> set[int]:
    with session_scope(engine) as s:
        return set(s.scalars(select(Customer.id).where(Customer.first_contact_reminded_at.is_not(None))))


def test_first_contact_reminds_owner_at_20h_then_manager_at_24h_once(engine, settings):
    cid, _ = lead(engine)
    assert run(engine, settings, f.NOW + timedelta(hours=19, minutes=59)) == 0
    assert run(engine, settings, f.NOW + timedelta(hours=20)) == 1
    assert keys(engine) == [("first_contact", "@rita")]
    assert run(engine, settings, f.NOW + timedelta(hours=23, minutes=59)) == 0
    assert run(engine, settings, f.NOW + timedelta(hours=24)) == 1
    assert keys(engine) == [("first_contact", "@rita"), ("first_contact_escalation", "@boss")]
    assert run(engine, settings, f.NOW + timedelta(hours=30)) == 0
    with session_scope(engine) as s:
        c = s.get(Customer, cid)
        assert c.first_contact_reminded_at and c.first_contact_escalated_at


def test_first_contact_both_at_once_when_the_bot_was_down(engine, settings):
    lead(engine)
    assert run(engine, settings, f.NOW + timedelta(hours=26)) == 2
    assert [k for k, _ in keys(engine)] == ["first_contact", "first_contact_escalation"]


def test_first_contact_nothing_once_a_followup_is_logged(engine, settings):
    cid, rep = lead(engine)
    with session_scope(engine) as s:
        s.add(FollowUp(customer_id=cid, date=f.NOW, method="phone", content="hello", staff_id=rep,
                       created_at=f.NOW))
    other = control(engine, rep)
    assert run(engine, settings, f.NOW + timedelta(hours=26)) == 2  # the control's reminder and escalation
    assert reminded(engine) == {other}


def test_first_contact_only_for_potential_customers(engine, settings):
    _, rep = lead(engine, type="intent")
    other = control(engine, rep)
    assert run(engine, settings, f.NOW + timedelta(hours=26)) == 2
    assert reminded(engine) == {other}


def test_first_contact_without_a_manager_escalates_to_the_admins_once(engine, settings):
    cid, _ = lead(engine, manager=False)
    with session_scope(engine) as s:
        f.staff(s, name="root", role="admin", team=None)
        f.staff(s, name="gone", role="admin", team=None, active=False)
    assert run(engine, settings, f.NOW + timedelta(hours=26)) == 2
    assert keys(engine) == [("first_contact", "@rita"), ("first_contact_escalation", "@root")]
    assert run(engine, settings, f.NOW + timedelta(hours=30)) == 0
    assert len(keys(engine)) == 2
    with session_scope(engine) as s:
        assert s.get(Customer, cid).first_contact_escalated_at is not None


def test_first_contact_ignores_old_customers(engine, settings):
    _, rep = lead(engine)
    later = f.NOW + timedelta(days=30)
    other = control(engine, rep, created=later - timedelta(hours=26))
    assert run(engine, settings, later) == 2
    assert reminded(engine) == {other}


def payload(engine, prefix: str):
    from handlers.views import from_json
    with session_scope(engine) as s:
        row = s.scalar(select(Outbox).where(Outbox.key.startswith(prefix)))
        return from_json(row.payload)


def test_first_contact_times_are_settings_and_the_texts_say_how_long_is_left(engine, settings):
    from handlers.views import Buttons
    from tests.says import says
    lead(engine)
    late = settings.model_copy(update={"first_contact_remind": timedelta(hours=6),
                                       "first_contact_window": timedelta(hours=8)})
    assert run(engine, late, f.NOW + timedelta(hours=5, minutes=59)) == 0
    assert run(engine, late, f.NOW + timedelta(hours=6)) == 1
    r = payload(engine, "first_contact:")
    assert says(r.text, "job.first.remind", hours=6, left=2)
    assert run(engine, late, f.NOW + timedelta(hours=8)) == 1
    esc = payload(engine, "first_contact_escalation:")
    assert says(esc.text, "job.first.escalate", owner="rita", hours=8)
    cmds = [b.action.cmd for v in esc.views if isinstance(v, Buttons) for b in v.buttons]
    assert cmds[0].startswith("/nudge ABC") and cmds[1].endswith(" owner")


def test_first_contact_reminder_found_late_says_the_window_has_passed(engine, settings):
    from tests.says import says
    lead(engine)
    assert run(engine, settings, f.NOW + timedelta(hours=26)) == 2
    assert says(payload(engine, "first_contact:").text, "job.first.remind_late", hours=26)


def test_first_contact_window_must_be_longer_than_the_reminder():
    import pytest
    from pydantic import ValidationError

    from handlers.settings import DomainSettings
    with pytest.raises(ValidationError, match="first_contact_window"):
        DomainSettings(_env_file=None, first_contact_remind="30h")
