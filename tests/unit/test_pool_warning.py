"""pool_warning: CRM_POOL_WARN_DAYS before the pool takes a customer back, its owner is told once, with Log and Keep
(Keep holds only once a follow-up was logged)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.console.driver import ConsoleSession
from handlers.services import audit
from handlers.views import Buttons, from_json
from scheduler import runner
from storage.db import session_scope
from storage.models import Customer, FollowUp, Outbox
from tests import factories as f
from tests.says import says

CHANNELS = {"console": "#service"}
NINE = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def run(engine, settings, now, name="pool_warning") -> int:
    return runner.run_job(engine, name, now=now, settings=settings, channels=CHANNELS)


def warnings(engine) -> list[Outbox]:
    with session_scope(engine) as s:
        return list(s.scalars(select(Outbox).where(Outbox.key.startswith("pool_warn:")).order_by(Outbox.id)))


@pytest.fixture
def quiet(core):
    return make_quiet(core)


def make_quiet(core):
    """alice's customer, last followed up 26 days before NINE: returns on day 30, warned from day 27."""
    with session_scope(core.engine) as s:
        alice = f.staff(s, name="alice")
        f.staff(s, name="bob")
        c = f.customer(s, name="Quiet Ltd", owner=alice, now=NINE - timedelta(days=60))
        c.last_followup_at = NINE - timedelta(days=26)
        fresh = f.customer(s, name="Fresh Ltd", owner=alice, now=NINE - timedelta(days=60))
        fresh.last_followup_at = NINE - timedelta(days=2)
        return c.code


def test_pool_warning_once_three_days_before_the_return(quiet, core, settings):
    e = core.engine
    assert run(e, settings, NINE) == 0  # 26 days quiet: not yet
    day27 = NINE + timedelta(days=1)
    assert run(e, settings, day27 - timedelta(minutes=1)) == 0  # 08:59 local: waits for the working day
    assert run(e, settings, day27) == 1
    assert run(e, settings, day27 + timedelta(hours=3)) == 0
    assert run(e, settings, day27 + timedelta(days=1)) == 0  # once per quiet spell, not once a day
    (row,) = warnings(e)
    assert row.chat_ref == "@alice"
    reply = from_json(row.payload)
    assert says(reply.text, "team.pool_warn", code=quiet, quiet=27, date="2026-11-27", days=3)
    (buttons,) = [v for v in reply.views if isinstance(v, Buttons)]
    assert [b.action.cmd for b in buttons.buttons] == [f"/log {quiet}", f"/keep {quiet}"]


def test_keep_needs_a_followup_then_holds(quiet, core, settings):
    day27 = NINE + timedelta(days=1)
    run(core.engine, settings, day27)
    core.clock.now = day27 + timedelta(hours=1)
    alice = ConsoleSession(core, user="alice")
    (row,) = warnings(core.engine)
    alice.view(from_json(row.payload), scope=row.scope)
    out = alice.press_cmd("/keep")
    assert says(out, "team.keep_needs_log", code=quiet, date="2026-11-27")
    assert alice.choices() == [f"/log {quiet}"]
    alice.send(f"/log {quiet} phone: confirmed the renewal")
    alice.view(from_json(row.payload), scope=row.scope)
    out = alice.press_cmd("/keep")
    assert says(out, "team.kept", code=quiet, last="2026-11-24", date="2026-12-24")
    # the follow-up started a new quiet spell: no second warning now, and the nightly return leaves it alone
    assert run(core.engine, settings, day27 + timedelta(days=3)) == 0
    assert run(core.engine, settings, day27 + timedelta(days=4), name="pool_return") == 0
    # 27 days after that follow-up, a new warning
    assert run(core.engine, settings, day27 + timedelta(days=27)) == 1
    assert len(warnings(core.engine)) == 2


def test_keep_is_for_the_owner_and_their_manager(quiet, core, settings):
    out = ConsoleSession(core, user="bob").send(f"/keep {quiet}")
    assert says(out, "lookup.not_found") or says(out, "lookup.not_found_suggest")


def test_no_warning_after_a_handover_or_with_the_setting_off(quiet, core, settings):
    with session_scope(core.engine) as s:
        c = s.scalar(select(Customer).where(Customer.code == quiet))
        audit.record(s, actor_id=None, action="handover", entity="customer", entity_id=c.id, entity_code=c.code,
                     field="owner", old="bob", new="alice", now=NINE - timedelta(days=5))
    assert run(core.engine, settings, NINE + timedelta(days=1)) == 0  # the handover restarted the clock
    off = settings.model_copy(update={"pool_warn_days": 0})
    assert run(core.engine, off, NINE + timedelta(days=23)) == 0
    assert run(core.engine, settings, NINE + timedelta(days=23)) == 1  # 28 days after the handover
    assert warnings(core.engine)[0].chat_ref == "@alice"


def test_no_warning_for_a_customer_already_due_for_the_return(core, settings):
    with session_scope(core.engine) as s:
        alice = f.staff(s, name="alice")
        c = f.customer(s, name="Long Gone", owner=alice, now=NINE - timedelta(days=90))
        s.add(FollowUp(customer_id=c.id, date=NINE - timedelta(days=31), method="phone", content="x",
                       staff_id=alice.id, created_at=NINE - timedelta(days=31)))
        c.last_followup_at = NINE - timedelta(days=31)
    assert run(core.engine, settings, NINE) == 0  # the nightly return tells the owner instead
