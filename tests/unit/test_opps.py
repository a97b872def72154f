"""/opp: add (one line, dialog), stages in order with won/lost requirements, list, card, pipeline report."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.console.driver import ConsoleSession
from storage.db import session_scope
from storage.models import AuditLog, Opportunity, OpportunityStage, Staff
from tests import factories as f
from tests.says import says


@pytest.fixture
def sales(core):
    with session_scope(core.engine) as s:
        mgr = f.staff(s, name="mary", role="manager", team="east")
        alice = f.staff(s, name="alice", team="east", manager=mgr)
        zed = f.staff(s, name="zed", team="west")
        f.staff(s, name="root", role="admin", team=None)
        f.customer(s, name="杭州云栖科技有限公司", owner=alice)  # ABC2026001
        f.customer(s, name="West Trading", owner=zed)  # ABC2026002
    return core


def chat(core, user):
    return ConsoleSession(core, user=user)


def opp(core, code="ABC2026001OP01"):
    with session_scope(core.engine) as s:
        return s.scalar(select(Opportunity).where(Opportunity.code == code))


def test_opp_add_one_line(sales):
    out = chat(sales, "alice").send("/opp add ABC2026001 ERP财务模块 amount=58万 close=2026-12-31 competitors=用友")
    assert "ABC2026001OP01" in out
    o = opp(sales)
    assert o.expected_amount == Decimal("580000.00") and str(o.expected_close_date) == "2026-12-31"
    assert o.stage == "initial" and o.competitors == "用友" and o.name == "ERP财务模块"


def test_opp_add_values_with_spaces(sales):
    a = chat(sales, "alice")
    a.send("/opp add ABC2026001 ERP upgrade amount=600k close=next friday competitors=SAP, Oracle")
    o = opp(sales)
    assert o.name == "ERP upgrade" and o.competitors == "SAP, Oracle"
    assert str(o.expected_close_date) == "2026-12-04"  # now is Monday 2026-11-23
    a.send("/opp stage ABC2026001OP01 lost reason=price too high, went with SAP")
    assert opp(sales).lost_reason == "price too high, went with SAP"


def test_opp_add_by_name_and_second_code(sales):
    a = chat(sales, "alice")
    a.send("/opp add 云栖 first amount=1000 close=2026-12-01")
    out = a.send("/opp add 云栖 second amount=2000 close=2027-01-15")
    assert "ABC2026001OP02" in out


def test_opp_add_rejects_bad_amount_and_past_close(sales):
    a = chat(sales, "alice")
    assert "⚠" in a.send("/opp add ABC2026001 X amount=lots close=2026-12-31")
    assert "⚠" in a.send("/opp add ABC2026001 X amount=100 close=2020-01-01")
    assert opp(sales) is None


def test_opp_add_from_the_card_button_runs_the_dialog(sales):
    a = chat(sales, "alice")
    a.send("/customer ABC2026001")
    out = a.press_cmd("/opp add ABC2026001")
    assert says(out, "opp.dlg.name")
    a.send("CRM rollout")
    assert "⚠" in a.send("a lot")
    a.send("300k")
    a.send("2027-03-01")
    out = a.send("skip")
    assert "ABC2026001OP01" in out and "CRM rollout" in out
    assert opp(sales).expected_amount == Decimal("300000.00")


def test_opp_stages_in_order_with_notes_and_history(sales):
    a = chat(sales, "alice")
    a.send("/opp add ABC2026001 ERP amount=580000 close=2026-12-31")
    out = a.send("/opp stage ABC2026001OP01 proposal skipped ahead")
    assert "⚠" in out and opp(sales).stage == "initial"
    a.send("/opp stage ABC2026001OP01 needs met the CFO, wants finance module")
    a.send("/opp stage ABC2026001OP01 方案提交 方案已发送")
    out = a.send("/opp ABC2026001OP01")
    assert "met the CFO" in out and "方案已发送" in out
    with session_scope(sales.engine) as s:
        rows = list(s.scalars(select(OpportunityStage).order_by(OpportunityStage.id)))
        assert [(r.from_stage, r.to_stage) for r in rows] == [(None, "initial"), ("initial", "needs"),
                                                             ("needs", "proposal")]
        assert s.scalar(select(AuditLog).where(AuditLog.field == "stage", AuditLog.new == "proposal"))
    assert "⚠" in a.send("/opp stage ABC2026001OP01 needs going back")


def test_opp_won_requires_amount_and_contract(sales):
    a = chat(sales, "alice")
    a.send("/opp add ABC2026001 ERP amount=580000 close=2026-12-31")
    out = a.send("/opp stage ABC2026001OP01 won signed")
    assert "⚠" in out and says(out, "opp.err.won_needs", code="ABC2026001OP01")
    assert "⚠" in a.send("/opp stage ABC2026001OP01 won amount=580000 signed")
    a.send("/opp stage ABC2026001OP01 won amount=575000 contract=HT-2026-001 signed today")
    o = opp(sales)
    assert o.stage == "won" and o.actual_amount == Decimal("575000.00") and o.contract_no == "HT-2026-001"
    assert "⚠" in a.send("/opp stage ABC2026001OP01 lost reason=oops")


def test_opp_lost_requires_a_reason(sales):
    a = chat(sales, "alice")
    a.send("/opp add ABC2026001 ERP amount=580000 close=2026-12-31")
    assert "⚠" in a.send("/opp stage ABC2026001OP01 lost")
    a.send('/opp stage ABC2026001OP01 失败 reason="价格太高"')
    o = opp(sales)
    assert o.stage == "lost" and o.lost_reason == "价格太高"


def test_opp_list_mine_team_and_stage_filter(sales):
    chat(sales, "alice").send("/opp add ABC2026001 A1 amount=100 close=2026-12-31")
    chat(sales, "zed").send("/opp add ABC2026002 Z1 amount=100 close=2026-12-31")
    chat(sales, "alice").send("/opp stage ABC2026001OP01 needs x")
    out = chat(sales, "alice").send("/opp list")
    assert "A1" in out and "Z1" not in out
    out = chat(sales, "mary").send("/opp list team")
    assert "A1" in out and "Z1" not in out
    out = chat(sales, "root").send("/opp list all stage:initial")
    assert "Z1" in out and "A1" not in out
    # a manager's "all" is titled by what it really shows; a rep's "team"/"all" is for managers (issue 10)
    from handlers.i18n import t
    out = chat(sales, "mary").send("/opp list all")
    assert out.startswith("== " + t("en", "opp.list_title", scope=t("en", "opp.scope.team")))
    for word in ("team", "all"):
        out = chat(sales, "alice").send(f"/opp list {word}")
        assert out == "⚠ " + t("en", "err.scope_managers", word=word, cmd="/opp list")


def test_opp_card_of_someone_elses_reads_like_not_found(sales):
    chat(sales, "zed").send("/opp add ABC2026002 Z1 amount=100 close=2026-12-31")
    hidden = chat(sales, "alice").send("/opp ABC2026002OP01")
    missing = chat(sales, "alice").send("/opp ABC2026002OP09")
    assert hidden.replace("OP01", "OPxx") == missing.replace("OP09", "OPxx")


def test_opp_pipeline_report_counts_per_stage_and_owner(sales):
    a = chat(sales, "alice")
    for i in range(3):
        a.send(f"/opp add ABC2026001 O{i} amount=100000 close=2026-12-31")
    a.send("/opp stage ABC2026001OP01 won amount=90000 contract=HT-1 ok")
    a.send("/opp stage ABC2026001OP02 lost reason=price")
    chat(sales, "zed").send("/opp add ABC2026002 Z1 amount=100 close=2026-12-31")
    out = a.send("/report pipeline")
    assert "50%" in out and "zed" not in out
    out = chat(sales, "root").send("/report pipeline year")
    assert "zed" in out and "alice" in out
    with session_scope(sales.engine) as s:
        assert s.scalar(select(Staff).where(Staff.name == "alice"))


def test_opp_with_a_customer_code_lists_that_customers_opportunities(sales):
    a = chat(sales, "alice")
    a.send("/opp add ABC2026001 ERP amount=1000 close=2026-12-31")
    out = a.send("/opp ABC2026001")
    assert "ABC2026001OP01 ERP" in out and "/opp add ABC2026001" in a.choices()
    with session_scope(sales.engine) as s:
        zed = s.scalar(select(Staff).where(Staff.name == "zed"))
        other = f.customer(s, name="Hidden Co", owner=zed).code
    hidden = a.send(f"/opp {other}").replace(other, "<code>")
    assert hidden == a.send("/opp ABC2026999").replace("ABC2026999", "<code>")  # hidden reads like missing
