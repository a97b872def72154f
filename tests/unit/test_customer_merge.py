"""/customer merge A INTO B: the confirmation, everything of A moving to B with its authors and times, the
tombstone that still resolves, permissions, and merging once (double click, concurrent merges) — on SQLite
and on PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.console.driver import ConsoleSession
from handlers.router import Core
from storage.db import create_all, make_engine, session_scope
from storage.models import (
    ApprovalRequest,
    AuditLog,
    ChatBinding,
    Contact,
    Customer,
    CustomerTag,
    FollowUp,
    Opportunity,
    Purchase,
    Tag,
    Ticket,
    TicketEvent,
)
from storage.repos import merging as merging_repo
from tests import factories as f
from tests.conftest import Clock
from tests.factories import NOW
from tests.says import says

OLD = NOW - timedelta(days=40)


def _seed(engine) -> dict[str, str]:
    """Two duplicates of one company owned by alice (east), bob's other customer, zed (west)."""
    with session_scope(engine) as s:
        mary = f.staff(s, name="mary", role="manager", team="east")
        alice = f.staff(s, name="alice", team="east", manager=mary)
        bob = f.staff(s, name="bob", team="east", manager=mary)
        f.staff(s, name="zed", role="manager", team="west")
        f.staff(s, name="root", role="admin", team=None)
        dup = f.customer(s, name="Hangzhou Cloud", owner=bob, contact="Li Lei", phone="13800000001")
        keep = f.customer(s, name="Hangzhou Cloud Co", owner=alice, contact="Han Mei")
        dup.address, dup.last_followup_at = "Hangzhou, Xihu", OLD
        s.add(Contact(customer_id=dup.id, name="Wang Fang", created_at=OLD))
        for name, who in (("vip", dup), ("vip", keep), ("referral", dup)):
            tag = s.scalar(select(Tag).where(Tag.name == name)) or Tag(name=name)
            s.add(tag)
            s.flush()
            s.add(CustomerTag(customer_id=who.id, tag_id=tag.id))
        s.add(FollowUp(customer_id=dup.id, date=OLD, method="phone", content="first call", staff_id=bob.id,
                       assignee_id=bob.id, next_followup_at=NOW + timedelta(days=2), created_at=OLD))
        s.add(Opportunity(code=dup.code + "OP01", customer_id=dup.id, name="ERP", stage="needs", owner_id=bob.id,
                          created_at=OLD, updated_at=OLD))
        tk = Ticket(code="FW2026001", customer_id=dup.id, description="printer", type="support", priority="low",
                    created_at=OLD, updated_at=OLD)
        s.add(tk)
        s.flush()
        s.add(TicketEvent(ticket_id=tk.id, kind="note", text="called", staff_id=bob.id, at=OLD))
        s.add(Purchase(customer_id=dup.id, date=NOW - timedelta(days=10), product="licence",
                       amount=Decimal("1200000"), staff_id=bob.id, created_at=OLD))
        contact = s.scalar(select(Contact).where(Contact.customer_id == dup.id, Contact.name == "Li Lei"))
        s.add(ChatBinding(platform="telegram", chat_ref="555", user_ref="555", customer_id=dup.id,
                          contact_id=contact.id, created_at=OLD))
        s.add(AuditLog(at=OLD, actor_id=bob.id, action="create", entity="customer", entity_id=dup.id,
                       entity_code=dup.code))
        s.add(ApprovalRequest(kind="edit", customer_id=dup.id, requested_by_id=bob.id, approver_id=mary.id,
                              changes=json.dumps({"name": ["Hangzhou Cloud", "Renamed"]}), created_at=OLD))
        other = f.customer(s, name="Elsewhere", owner=bob)
        return {"dup": dup.code, "keep": keep.code, "other": other.code}


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request, tmp_path, settings):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'merge.db'}")
        create_all(engine)
    else:
        engine = request.getfixturevalue("pg_db")
    codes = _seed(engine)
    yield Core(engine, settings, secret=b"merge", clock=Clock()), codes
    if request.param == "sqlite":
        engine.dispose()


def test_customer_merge_asks_first_and_changes_nothing(world):
    core, c = world
    mary = ConsoleSession(core, user="mary")
    out = mary.send(f"/customer merge {c['dup']} INTO {c['keep']}")
    assert says(out, "merge.title", src=c["dup"], dst=c["keep"])
    assert says(out, "merge.kind.contact", n=2) and says(out, "merge.kind.followup", n=1)
    assert says(out, "merge.kind.ticket", n=1) and says(out, "merge.kind.customer_tag", n=2)
    assert "Li Lei" in out and "Han Mei" in out
    assert len(mary.choices()) == 2  # Merge, Cancel (long commands travel as stored references)
    assert says(mary.press(2), "merge.cancelled", src=c["dup"], dst=c["keep"])
    with session_scope(core.engine) as s:
        assert s.scalar(select(func.count()).select_from(Customer).where(Customer.merged_into_id.is_not(None))) == 0


def test_customer_merge_moves_everything_and_keeps_history(world):
    core, c = world
    mary = ConsoleSession(core, user="mary")
    mary.send(f"/customer merge {c['dup']} INTO {c['keep']}")
    out = mary.press(1)
    assert says(out, "merge.done", src=c["dup"], dst=c["keep"]), out
    with session_scope(core.engine) as s:
        dup = s.scalar(select(Customer).where(Customer.code == c["dup"]))
        keep = s.scalar(select(Customer).where(Customer.code == c["keep"]))
        assert dup.merged_into_id == keep.id and dup.merged_at is not None
        assert merging_repo.count_rows(s, customer_id=dup.id) == {"audit_log": 1}  # only its "merged" entry
        contacts = {ct.name: ct.is_primary for ct in s.scalars(select(Contact).where(Contact.customer_id == keep.id))}
        assert contacts == {"Han Mei": True, "Li Lei": False, "Wang Fang": False}
        tags = set(s.scalars(select(Tag.name).join(CustomerTag, CustomerTag.tag_id == Tag.id)
                             .where(CustomerTag.customer_id == keep.id)))
        assert tags == {"vip", "referral"}
        fu = s.scalar(select(FollowUp))
        assert (fu.customer_id, fu.content, fu.date) == (keep.id, "first call", OLD)
        assert fu.staff_id != keep.owner_id and fu.assignee_id == keep.owner_id  # bob wrote it; alice owes it now
        assert s.scalar(select(Opportunity)).customer_id == keep.id
        assert s.scalar(select(Opportunity)).owner_id == keep.owner_id  # the open opportunity goes with it
        req = s.scalar(select(ApprovalRequest))
        assert req.status == "rejected" and keep.name == "Hangzhou Cloud Co"  # the held rename never reaches B
        assert s.scalar(select(Opportunity)).code == c["dup"] + "OP01"  # codes never change
        assert s.scalar(select(Ticket)).customer_id == keep.id and s.scalar(select(TicketEvent)).at == OLD
        assert s.scalar(select(Purchase)).customer_id == keep.id
        assert s.scalar(select(ChatBinding)).customer_id == keep.id
        assert keep.grade == "A"  # regraded from the moved 1.2 million purchase
        assert keep.address == "Hangzhou, Xihu" and keep.last_followup_at == OLD
        created = s.scalar(select(AuditLog).where(AuditLog.action == "create"))
        assert (created.entity_id, created.at, created.entity_code) == (keep.id, OLD, c["dup"])
        merges = {(a.entity_id, a.field) for a in s.scalars(select(AuditLog).where(AuditLog.action == "merge"))}
        assert {(dup.id, "merged_into"), (keep.id, "merged_from")} <= merges
    trail = mary.send(f"/customer audit {c['keep']}")
    assert c["dup"] in trail and "first call" not in trail


def test_customer_merge_old_code_resolves_and_is_not_listed(world):
    core, c = world
    mary = ConsoleSession(core, user="mary")
    mary.send(f"/customer merge {c['dup']} INTO {c['keep']} yes")
    out = mary.send(f"/customer {c['dup']}")
    assert says(out, "lookup.merged", code=c["dup"], into=c["keep"]) and "Han Mei" in out  # and B's card
    assert says(mary.send(f"/log {c['dup']} phone positive: hello"), "lookup.merged", code=c["dup"],
                into=c["keep"])
    listed = mary.send("/customer Hangzhou")
    assert f"Hangzhou Cloud Co · {c['keep']} ==" in listed and f"· {c['dup']} ==" not in listed  # B's card only
    bobs = mary.send("/customer owner:bob")
    assert "Elsewhere" in bobs and "Hangzhou" not in bobs
    with session_scope(core.engine) as s:
        assert s.scalar(select(func.count()).select_from(Customer).where(Customer.owner_id.is_not(None),
                                                                       Customer.merged_into_id.is_(None))) == 2


def test_customer_merge_double_click_merges_once(world):
    core, c = world
    mary = ConsoleSession(core, user="mary")
    mary.send(f"/customer merge {c['dup']} INTO {c['keep']}")
    assert says(mary.press(1), "merge.done")
    mary.send(f"/customer merge {c['dup']} INTO {c['keep']}")  # (the old card's button, pressed again)
    assert says(mary.send(f"/customer merge {c['dup']} INTO {c['keep']} yes"), "merge.err.done",
                src=c["dup"], dst=c["keep"])
    with session_scope(core.engine) as s:
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.field == "merged_into")) == 1


def test_customer_merge_concurrent_clicks_merge_once(world):
    core, c = world
    outs: list[str] = []
    barrier = threading.Barrier(4)

    def click(i: int) -> None:
        chat = ConsoleSession(core, user="root" if i % 2 else "mary", chat=f"@x{i}")
        barrier.wait()
        outs.append(chat.send(f"/customer merge {c['dup']} INTO {c['keep']} yes"))

    threads = [threading.Thread(target=click, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(says(o, "merge.done") for o in outs) == 1, outs
    assert sum(says(o, "merge.err.done") or says(o, "merge.err.changed") for o in outs) == 3, outs
    with session_scope(core.engine) as s:
        assert s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.field == "merged_into")) == 1


def test_customer_merge_opposite_merges_at_once_leave_no_cycle(world):
    core, c = world
    outs: list[str] = []
    barrier = threading.Barrier(2)

    def merge(a: str, b: str, who: str) -> None:
        chat = ConsoleSession(core, user=who)
        barrier.wait()
        outs.append(chat.send(f"/customer merge {a} INTO {b} yes"))

    threads = [threading.Thread(target=merge, args=(c["dup"], c["keep"], "mary")),
               threading.Thread(target=merge, args=(c["keep"], c["dup"], "root"))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sum(says(o, "merge.done") for o in outs) == 1, outs
    with session_scope(core.engine) as s:
        assert s.scalar(select(func.count()).select_from(Customer).where(Customer.merged_into_id.is_not(None))) == 1


def test_customer_merge_permissions(world):
    core, c = world
    assert says(ConsoleSession(core, user="alice").send(f"/customer merge {c['dup']} INTO {c['keep']}"),
                "merge.err.role")
    zed = ConsoleSession(core, user="zed").send(f"/customer merge {c['dup']} INTO {c['keep']}")
    assert says(zed, "lookup.not_found", query=c["dup"])  # another team's customer does not exist for zed
    root = ConsoleSession(core, user="root")
    assert says(root.send(f"/customer merge {c['dup']} INTO {c['dup']}"), "merge.err.same", code=c["dup"])
    assert says(root.send(f"/customer merge {c['dup']}"), "merge.usage")
    assert says(root.send(f"/customer 合并 {c['dup']} 到 {c['keep']}"), "merge.title", src=c["dup"], dst=c["keep"])


def test_customer_merge_chain_points_at_the_last_survivor(world):
    core, c = world
    root = ConsoleSession(core, user="root")
    assert says(root.send(f"/customer merge {c['dup']} INTO {c['keep']} yes"), "merge.done")
    assert says(root.send(f"/customer merge {c['keep']} INTO {c['other']} yes"), "merge.done")
    assert says(root.send(f"/customer {c['dup']}"), "lookup.merged", code=c["dup"], into=c["other"])
    with session_scope(core.engine) as s:
        other = s.scalar(select(Customer).where(Customer.code == c["other"]))
        assert s.scalar(select(FollowUp)).customer_id == other.id
        dup = s.scalar(select(Customer).where(Customer.code == c["dup"]))
        assert dup.merged_into_id == other.id  # the chain collapsed


def test_customer_merge_tombstone_of_a_pool_customer_cannot_be_claimed(world):
    core, c = world
    with session_scope(core.engine) as s:
        pooled = f.customer(s, name="Pooled Duplicate", owner=None, contact="Li Lei")
        code = pooled.code
    root = ConsoleSession(core, user="root")
    assert says(root.send(f"/customer merge {code} INTO {c['keep']} yes"), "merge.done")
    alice = ConsoleSession(core, user="alice")
    assert says(alice.send(f"/claim {code}"), "lookup.not_found", query=code)
    assert code not in alice.send("/pool")
    with session_scope(core.engine) as s:
        assert s.scalar(select(Customer.owner_id).where(Customer.code == code)) is None
