"""/purchase and the grade that follows the rolling-year total unless a manager locked it."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.console.driver import ConsoleSession
from handlers.services.purchases import yearly_amount
from storage.db import session_scope
from storage.models import Customer, Purchase
from tests import factories as f
from tests.factories import NOW
from tests.says import says


@pytest.fixture
def shop(core):
    with session_scope(core.engine) as s:
        mgr = f.staff(s, name="mary", role="manager", team="east")
        alice = f.staff(s, name="alice", team="east", manager=mgr)
        f.staff(s, name="zed", team="west")
        f.customer(s, name="Buyer Co", owner=alice, grade="C")
    return core


def grade(core):
    with session_scope(core.engine) as s:
        c = s.scalar(select(Customer))
        return c.grade, c.grade_locked


def test_purchase_records_and_regrades(shop):
    a = ConsoleSession(shop, user="alice")
    out = a.send("/purchase ABC2026001 150000 ERP license")
    assert "ERP license" in out and grade(shop) == ("C", False)
    out = a.send("/purchase ABC2026001 60000 support 2026-11-01")
    assert "B" in out and grade(shop) == ("B", False)
    a.send("/purchase ABC2026001 80万 expansion 昨天")
    assert grade(shop) == ("A", False)
    with session_scope(shop.engine) as s:
        dates = sorted(p.date.date().isoformat() for p in s.scalars(select(Purchase)))
        assert dates == ["2026-11-01", "2026-11-22", "2026-11-23"]
        assert yearly_amount(s, s.scalar(select(Customer)).id, now=NOW) == Decimal("1010000.00")


def test_purchase_older_than_a_year_does_not_count(shop):
    a = ConsoleSession(shop, user="alice")
    a.send("/purchase ABC2026001 900000 old deal 2025-11-01")
    assert grade(shop) == ("C", False)


def test_purchase_keeps_a_locked_grade(shop):
    ConsoleSession(shop, user="mary").send("/customer edit ABC2026001 grade=B")
    out = ConsoleSession(shop, user="alice").send("/purchase ABC2026001 2000000 big")
    assert grade(shop) == ("B", True) and says(out, "pur.locked", grade="B")
    ConsoleSession(shop, user="mary").send("/customer edit ABC2026001 grade=auto")
    assert grade(shop) == ("A", False)


def test_purchase_bad_input_and_other_reps_customer(shop):
    a = ConsoleSession(shop, user="alice")
    assert "⚠" in a.send("/purchase ABC2026001 lots ERP")
    assert "⚠" in a.send("/purchase ABC2026001 100")
    assert "⚠" in a.send("/purchase ABC2026001 100 thing 2027-01-01")
    assert "⚠" in ConsoleSession(shop, user="zed").send("/purchase ABC2026001 100 thing")
    with session_scope(shop.engine) as s:
        assert s.scalar(select(Purchase)) is None


def test_purchase_list(shop):
    a = ConsoleSession(shop, user="alice")
    a.send("/purchase ABC2026001 1000 widgets")
    out = a.send("/purchase ABC2026001")
    assert "widgets" in out and "1,000" in out
