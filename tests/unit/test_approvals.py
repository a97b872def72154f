"""/approvals: a manager lists their team's pending requests (an admin all of them), each with what it changes,
who asked and when, and the Approve / Reject buttons of the request itself; reps are told it is for managers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.console.driver import ConsoleSession
from handlers.i18n import t
from storage.db import session_scope
from storage.models import ApprovalRequest, Customer
from tests import factories as f


@pytest.fixture
def team(core):
    with session_scope(core.engine) as s:
        mary = f.staff(s, name="mary", role="manager", team="east")
        alice = f.staff(s, name="alice", role="rep", team="east", manager=mary)
        wes = f.staff(s, name="wes", role="manager", team="west", lang="zh")
        zed = f.staff(s, name="zed", role="rep", team="west", manager=wes)
        f.staff(s, name="root", role="admin", team=None)
        f.staff(s, name="agnes", role="agent", team="service")
        f.customer(s, name="Deal Corp", owner=alice, type="deal", phone="13800000001")
        f.customer(s, name="West Deal", owner=zed, type="deal", phone="13800000002")
    return core


def chat(core, user: str) -> ConsoleSession:
    return ConsoleSession(core, user=user)


def _code(core, name: str) -> str:
    with session_scope(core.engine) as s:
        return s.scalar(select(Customer.code).where(Customer.name == name))


def _ask(core) -> None:
    chat(core, "alice").send(f'/customer edit {_code(core, "Deal Corp")} name="Deal Corp Renamed" type=lost')
    chat(core, "zed").send(f'/customer edit {_code(core, "West Deal")} name="West Renamed"')


def test_approvals_manager_sees_their_teams_requests_with_changes_and_buttons(team, clock):
    _ask(team)
    clock.advance(hours=1)
    out = chat(team, "mary").send("/approvals")
    assert t("en", "appr.list.title") in out
    code = _code(team, "Deal Corp")
    assert t("en", "appr.list.item", code=code, name="Deal Corp", requester="alice", at="2026-11-23 10:00") in out
    assert f"{t('en', 'cust.f.name')}: Deal Corp → Deal Corp Renamed" in out
    assert f"{t('en', 'cust.f.type')}: {t('en', 'enum.customer_type.deal')} → " \
           f"{t('en', 'enum.customer_type.lost')}" in out
    assert "West Deal" not in out  # another team's request
    mary = chat(team, "mary")
    mary.send("/approvals")
    with session_scope(team.engine) as s:
        rid = s.scalar(select(ApprovalRequest.id).where(ApprovalRequest.customer_id == s.scalar(
            select(Customer.id).where(Customer.code == code))))
    assert mary.choices() == [f"/customer approve {rid}", f"/customer reject {rid}"]
    assert t("en", "appr.done_approved", code=code, name="Deal Corp Renamed") in mary.press(1)
    with session_scope(team.engine) as s:
        assert s.get(ApprovalRequest, rid).status == "approved"
    assert t("en", "appr.list.empty") in chat(team, "mary").send("/approvals")  # decided: gone from the list


def test_approvals_admin_sees_all_and_zh_alias(team):
    _ask(team)
    root = chat(team, "root")
    out = root.send("/approvals")
    assert "Deal Corp" in out and "West Deal" in out and len(root.choices()) == 4
    out = chat(team, "wes").send("/审批")  # 经理 in Chinese: his team's one
    assert t("zh", "appr.list.title") in out and "West Deal" in out and "Deal Corp" not in out


def test_approvals_is_for_managers(team):
    _ask(team)
    for who in ("alice", "agnes"):
        out = chat(team, who).send("/approvals")
        assert t("en", "appr.list.managers_only") in out and "Deal Corp" not in out


def test_approvals_empty_list_says_so(team):
    out = chat(team, "mary").send("/approvals")
    assert t("en", "appr.list.empty") in out
    assert "⚠" in chat(team, "mary").send("/approvals everything")
