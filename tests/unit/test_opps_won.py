"""A won opportunity counts what was signed, and winning offers to make the customer a deal customer and to
record the purchase — each once, by button."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.console.driver import ConsoleSession
from handlers import actions
from handlers.i18n import enum_label, t
from storage.db import session_scope
from storage.models import ApprovalRequest, AuditLog, Customer, Purchase
from tests import factories as f

WIN = "/opp stage ABC2026001OP01 won amount=670000 contract=HT-2026-007 signed"


@pytest.fixture
def sales(core):
    with session_scope(core.engine) as s:
        mgr = f.staff(s, name="mary", role="manager", team="east")
        alice = f.staff(s, name="alice", team="east", manager=mgr)
        f.staff(s, name="zed", team="west")
        f.customer(s, name="杭州云栖科技有限公司", owner=alice, type="intent", grade="C")  # ABC2026001
    return core


@pytest.fixture
def won(sales):
    a = ConsoleSession(sales, user="alice")
    a.send("/opp add ABC2026001 ERP amount=700000 close=2026-12-31")
    a.send(WIN)
    return a


def customer(core) -> Customer:
    with session_scope(core.engine) as s:
        return s.scalar(select(Customer).where(Customer.code == "ABC2026001"))


def count(core, model, *where) -> int:
    with session_scope(core.engine) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def token(a: ConsoleSession, prefix: str) -> str:
    cmd = next(c for c in a.choices() if c.startswith(prefix))
    return actions.encode(cmd, scope=a.last_scope, secret=a.core.secret, now=a.core.clock())


def test_won_counts_the_actual_amount_in_the_pipeline(won):
    out = won.send("/report pipeline")
    assert f"{enum_label('en', 'stage', 'won')}: {t('en', 'opp.rep.stage_line', count=1, amount='¥670,000')}" in out
    assert "700,000" not in out


def test_won_lists_show_the_actual_amount(won):
    for cmd in ("/opp list stage:won", "/opp list", "/opp ABC2026001"):
        out = won.send(cmd)
        assert "¥670,000" in out and "700,000" not in out, cmd


def test_won_card_leads_with_what_was_signed(won):
    out = won.send("/opp ABC2026001OP01")
    actual, expected = f"{t('en', 'opp.f.actual')}: ¥670,000.00", f"{t('en', 'opp.f.amount')}: ¥700,000.00"
    assert actual in out and expected in out and out.index(actual) < out.index(expected)


def test_an_open_opportunity_still_shows_the_expected_amount(sales):
    a = ConsoleSession(sales, user="alice")
    a.send("/opp add ABC2026001 ERP amount=700000 close=2026-12-31")
    assert "¥700,000" in a.send("/opp list")
    assert "¥700,000" in a.send("/report pipeline")


def test_winning_offers_both_buttons(won):
    assert t("en", "opp.won_next") in won.last.text
    assert "/customer edit ABC2026001 type=deal" in won.choices()
    assert "/opp purchase ABC2026001OP01" in won.choices()


def test_mark_deal_button_changes_the_type_once_without_approval(won):
    tok = token(won, "/customer edit")
    won.press_token(tok)
    assert customer(won.core).type == "deal"
    assert count(won.core, ApprovalRequest) == 0  # a type change TO deal by the owner is an ordinary edit
    out = won.press_token(tok)  # pressed again: nothing more happens
    assert t("en", "cust.edit.nothing") in out
    assert count(won.core, AuditLog, AuditLog.field == "type") == 1
    assert "/customer edit ABC2026001 type=deal" not in won.send("/opp ABC2026001OP01") and \
        "/customer edit ABC2026001 type=deal" not in won.choices()


def test_purchase_button_records_once_and_regrades(won):
    tok = token(won, "/opp purchase")
    out = won.press_token(tok)
    assert "¥670,000.00" in out
    assert t("en", "pur.regraded", grade=enum_label("en", "grade", "B"), total="¥670,000") in out
    with session_scope(won.core.engine) as s:
        p = s.scalar(select(Purchase))
        assert p.amount == Decimal("670000.00") and "HT-2026-007" in p.product
    assert customer(won.core).grade == "B"
    out = won.press_token(tok)  # pressed twice: one purchase
    assert t("en", "opp.purchase_already", code="ABC2026001OP01") in out
    assert count(won.core, Purchase) == 1
    assert "/opp purchase ABC2026001OP01" not in won.choices()
    won.send("/opp purchase ABC2026001OP01")  # typed: the same
    assert count(won.core, Purchase) == 1


def test_purchase_of_an_open_or_hidden_opportunity_is_refused(sales):
    a = ConsoleSession(sales, user="alice")
    a.send("/opp add ABC2026001 ERP amount=700000 close=2026-12-31")
    out = a.send("/opp purchase ABC2026001OP01")
    assert out == "⚠ " + t("en", "opp.err.not_won", code="ABC2026001OP01")
    a.send(WIN)
    out = ConsoleSession(sales, user="zed").send("/opp purchase ABC2026001OP01")
    assert out == "⚠ " + t("en", "opp.not_found", code="ABC2026001OP01")
    assert count(sales, Purchase) == 0


def test_a_deal_customer_is_not_offered_the_type_change(sales):
    with session_scope(sales.engine) as s:
        s.scalar(select(Customer).where(Customer.code == "ABC2026001")).type = "deal"
    a = ConsoleSession(sales, user="alice")
    a.send("/opp add ABC2026001 ERP amount=700000 close=2026-12-31")
    a.send(WIN)
    assert a.choices() == ["/opp purchase ABC2026001OP01", "/customer ABC2026001"]
