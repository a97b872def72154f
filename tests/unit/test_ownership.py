"""/handover, /pool, /claim, the stale-customer return rule, /staff."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.console.driver import ConsoleSession
from handlers.i18n import t
from handlers.services.pool import return_stale_to_pool
from storage.db import session_scope
from storage.models import AuditLog, Customer, FollowUp, Opportunity, Outbox, Staff
from tests import factories as f
from tests.factories import NOW
from tests.says import says


@pytest.fixture
def org(core):
    with session_scope(core.engine) as s:
        mgr = f.staff(s, name="mary", role="manager", team="east")
        alice = f.staff(s, name="alice", team="east", manager=mgr)
        f.staff(s, name="bob", team="east", manager=mgr)
        f.staff(s, name="zed", team="west")
        f.staff(s, name="root", role="admin", team=None)
        f.staff(s, name="agnes", role="agent", team="service")
        c1 = f.customer(s, name="Alpha Ltd", owner=alice)
        f.customer(s, name="Beta Ltd", owner=alice)
        f.customer(s, name="Pooled Inc", owner=None)
        s.add(Opportunity(code=c1.code + "OP01", customer_id=c1.id, name="o1", stage="needs", owner_id=alice.id,
                          created_at=NOW, updated_at=NOW))
        s.add(Opportunity(code=c1.code + "OP02", customer_id=c1.id, name="o2", stage="won", owner_id=alice.id,
                          created_at=NOW, updated_at=NOW))
        s.add(FollowUp(customer_id=c1.id, date=NOW, method="phone", content="x", staff_id=alice.id,
                       next_followup_at=NOW + timedelta(days=3), created_at=NOW))
        s.add(FollowUp(customer_id=c1.id, date=NOW, method="phone", content="old", staff_id=alice.id,
                       next_followup_at=NOW, done_at=NOW, created_at=NOW))
    return core


def chat(core, user):
    return ConsoleSession(core, user=user)


def owners(core):
    with session_scope(core.engine) as s:
        names = dict(s.execute(select(Staff.id, Staff.name)).all())
        return {c.name: names.get(c.owner_id) for c in s.scalars(select(Customer))}


def test_handover_moves_customers_open_opps_and_scheduled_followups(org):
    mary = chat(org, "mary")
    out = mary.send("/handover alice bob")
    assert "2" in out and "1" in out
    assert owners(org) == {"Alpha Ltd": "bob", "Beta Ltd": "bob", "Pooled Inc": None}
    with session_scope(org.engine) as s:
        bob = s.scalar(select(Staff).where(Staff.name == "bob"))
        opps = {o.name: o.owner_id for o in s.scalars(select(Opportunity))}
        assert opps["o1"] == bob.id and opps["o2"] != bob.id  # won stays with alice
        fus = {fu.content: (fu.staff_id, fu.assignee_id) for fu in s.scalars(select(FollowUp))}
        alice_id = fus["old"][0]
        assert fus["x"] == (alice_id, bob.id)  # what alice owed moves; who made the call does not
        assert fus["old"] == (alice_id, alice_id)  # done: nothing owed, nothing moves
        assert s.scalar(select(AuditLog).where(AuditLog.entity == "staff", AuditLog.action == "handover"))
        assert s.scalar(select(Outbox).where(Outbox.chat_ref == "@bob"))
    out = mary.press_cmd("/staff deactivate alice")
    assert "alice" in out
    with session_scope(org.engine) as s:
        assert not s.scalar(select(Staff).where(Staff.name == "alice")).active


def test_handover_is_for_managers_of_that_team(org):
    assert "⚠" in chat(org, "alice").send("/handover alice bob")
    assert "⚠" in chat(org, "mary").send("/handover alice zed")
    assert owners(org)["Alpha Ltd"] == "alice"
    chat(org, "root").send("/handover alice zed")
    assert owners(org)["Alpha Ltd"] == "zed"


def test_pool_lists_ownerless_and_claim_takes_one(org):
    bob = chat(org, "bob")
    out = bob.send("/pool")
    assert "Pooled Inc" in out and "Alpha" not in out
    out = bob.press_cmd("/claim ")
    assert "Pooled Inc" in out
    assert owners(org)["Pooled Inc"] == "bob"
    out = chat(org, "zed").send("/claim ABC2026003")
    assert "⚠" in out and says(out, "own.err.taken")
    with session_scope(org.engine) as s:
        assert s.scalar(select(AuditLog).where(AuditLog.action == "claim"))


def test_claim_two_reps_one_wins(org):
    bob, zed = chat(org, "bob"), chat(org, "zed")
    bob.send("/pool")
    zed.send("/pool")
    bob.press_cmd("/claim ")
    out = zed.press_cmd("/claim ")
    assert "⚠" in out
    assert owners(org)["Pooled Inc"] == "bob"


def test_claim_respects_the_cap(org, settings):
    settings.pool_claim_cap = 2
    out = chat(org, "alice").send("/claim ABC2026003")
    assert "⚠" in out and "2" in out
    assert owners(org)["Pooled Inc"] is None


def test_claim_owned_customer_reads_like_not_found(org):
    hidden = chat(org, "zed").send("/claim ABC2026001")
    missing = chat(org, "zed").send("/claim ABC2026099")
    assert hidden.replace('"ABC2026001"', '"X"') == missing.replace('"ABC2026099"', '"X"')


def test_return_stale_to_pool_moves_and_tells_each_owner_once(org, settings):
    later = NOW + timedelta(days=settings.pool_return_days + 1)
    with session_scope(org.engine) as s:
        alpha = s.scalar(select(Customer).where(Customer.name == "Alpha Ltd"))
        alpha.last_followup_at = later - timedelta(days=2)  # recently followed up: stays
    with session_scope(org.engine) as s:
        n = return_stale_to_pool(s, now=later, settings=settings)
    assert n == 1
    assert owners(org) == {"Alpha Ltd": "alice", "Beta Ltd": None, "Pooled Inc": None}
    with session_scope(org.engine) as s:
        beta = s.scalar(select(Customer).where(Customer.name == "Beta Ltd"))
        assert beta.pooled_at == later
        assert s.scalar(select(AuditLog).where(AuditLog.action == "pool_return", AuditLog.entity_id == beta.id))
        rows = list(s.scalars(select(Outbox).where(Outbox.key.like("pool:%"))))
        assert len(rows) == 1 and rows[0].chat_ref == "@alice"
    with session_scope(org.engine) as s:
        assert return_stale_to_pool(s, now=later + timedelta(hours=1), settings=settings) == 0


def test_return_stale_spares_a_freshly_claimed_customer(org, settings, clock):
    clock.now = NOW + timedelta(days=100)
    chat(org, "bob").send("/claim ABC2026003")
    with session_scope(org.engine) as s:
        return_stale_to_pool(s, now=clock.now + timedelta(days=1), settings=settings)
    assert owners(org)["Pooled Inc"] == "bob"


def test_staff_list_and_details(org):
    out = chat(org, "agnes").send("/staff")
    assert "mary" in out and t("en", "enum.role.manager") in out
    assert t("en", "staffcmd.f.tz") not in chat(org, "bob").send("/staff mary")
    assert t("en", "staffcmd.f.tz") in chat(org, "root").send("/staff mary")


def test_staff_deactivate_rules(org):
    assert "⚠" in chat(org, "bob").send("/staff deactivate alice")
    assert "⚠" in chat(org, "mary").send("/staff deactivate zed")
    out = chat(org, "mary").send("/staff deactivate alice")
    assert "2" in out  # still owns two customers
    assert chat(org, "alice").send("/help") == t("en", "auth.stranger")  # a deactivated member is nobody here
    chat(org, "root").send("/staff activate alice")
    with session_scope(org.engine) as s:
        assert s.scalar(select(Staff).where(Staff.name == "alice")).active


def test_handover_names_with_spaces_need_no_quotes(org):
    with session_scope(org.engine) as s:
        mary = s.scalar(select(Staff).where(Staff.name == "mary"))
        f.staff(s, name="Kevin Liu", team="east", manager=mary)
        f.staff(s, name="Emily Zhao", team="east", manager=mary)
    out = chat(org, "mary").send("/handover alice Kevin Liu")
    assert "⚠" not in out and "Kevin Liu" in out
    out = chat(org, "mary").send("/handover Kevin Liu Emily Zhao")
    assert "⚠" not in out and "Emily Zhao" in out
    assert "⚠" in chat(org, "mary").send("/handover nobody at all")


def test_pool_no_match_is_not_called_empty(org):

    c = chat(org, "alice")
    assert "Pooled Inc" in c.send("/pool")
    out = c.send("/pool zzz")
    assert "Pooled Inc" not in out and t("en", "own.pool_no_match") in out


def test_pool_and_search_wildcards_are_plain_text(org):
    c = chat(org, "alice")
    assert "Pooled Inc" not in c.send("/pool %")
    assert "Pooled Inc" not in c.send("/pool _")
    assert c.send("/customer %").startswith("⚠")
    assert c.send("/claim %").startswith("⚠")
