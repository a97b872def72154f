"""A short sales session end to end (the README's sales example): add a customer, find it, open an
opportunity, move it to won, record the purchase, read the pipeline; the manager checks the audit trail."""

from sqlalchemy import select

from bot.console.driver import ConsoleSession
from storage.db import session_scope
from storage.models import Customer, Opportunity
from tests import factories as f


def test_customers_sales_session(core):
    with session_scope(core.engine) as s:
        mary = f.staff(s, name="mary", role="manager", team="east")
        f.staff(s, name="alice", team="east", manager=mary)
    alice, mary = ConsoleSession(core, user="alice"), ConsoleSession(core, user="mary")
    out = alice.send('/customer add name="杭州云栖科技有限公司" industry=IT type=intent contact="张伟" '
                     'phone=13812345678 tags=高预算,决策周期短')
    assert "ABC2026001" in out
    assert "张伟" in alice.send("/customer 云栖")
    alice.press_cmd("/opp add ABC2026001")
    alice.send("ERP 财务模块")
    alice.send("58万")
    alice.send("2026-12-31")
    assert "ABC2026001OP01" in alice.send("用友")
    for stage in ("needs", "proposal", "negotiation"):
        alice.send(f"/opp stage ABC2026001OP01 {stage} ok")
    alice.send("/opp stage ABC2026001OP01 won amount=1200000 contract=HT-2026-001 签约")
    alice.send("/customer edit ABC2026001 type=deal")
    out = alice.send("/purchase ABC2026001 1200000 ERP 财务模块")
    assert "A" in out
    assert "100%" in alice.send("/report pipeline")
    out = mary.send("/customer audit ABC2026001")
    assert "alice" in out and "HT-2026-001" not in out
    with session_scope(core.engine) as s:
        c = s.scalar(select(Customer))
        assert (c.type, c.grade) == ("deal", "A")
        assert s.scalar(select(Opportunity)).stage == "won"
