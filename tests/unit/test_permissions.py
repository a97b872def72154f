"""The permission matrix of domain.md: each role × action × record (own / team / other team).

A rep sees and edits only their customers; a manager their team's; agents and supervisors see customer
basics but change no sales data; admin sees all. A record one may not see answers exactly like a missing one.
"""

import pytest

from bot.console.driver import ConsoleSession
from handlers.i18n import t
from storage.codes import opportunity_code
from storage.db import session_scope
from storage.models import Opportunity
from tests import factories as f
from tests.factories import NOW
from tests.says import says

# records: A alice's (east), B bob's (east), Z zed's (west), M mary's own (east manager)
CODES = {"A": "ABC2026001", "B": "ABC2026002", "Z": "ABC2026003", "M": "ABC2026004"}
ACTIONS = {
    "view": "/customer {code}",
    "edit": "/customer edit {code} notes=checked",
    "opp": "/opp add {code} Deal amount=1000 close=2026-12-31",
    "purchase": "/purchase {code} 100 widgets",
    "audit": "/customer audit {code}",
    "log": "/log {code} phone: called",
    "history": "/history {code}",
    "opp_card": "/opp {code}OP01",
    "opp_stage": "/opp stage {code}OP01 needs met the CTO",
}
OK, HIDDEN, DENIED = "ok", "hidden", "denied"
ALL_OK = {a: OK for a in ACTIONS}
SALES_HIDDEN = {a: HIDDEN for a in ACTIONS}
SERVICE = {"view": OK, **{a: DENIED for a in ACTIONS if a != "view"}}
EXPECTED = {
    "alice": {"A": {**ALL_OK, "audit": DENIED}, "B": SALES_HIDDEN, "Z": SALES_HIDDEN, "M": SALES_HIDDEN},
    "mary": {"A": ALL_OK, "B": ALL_OK, "Z": SALES_HIDDEN, "M": ALL_OK},
    "root": {"A": ALL_OK, "B": ALL_OK, "Z": ALL_OK, "M": ALL_OK},
    "agnes": {"A": SERVICE, "B": SERVICE, "Z": SERVICE, "M": SERVICE},
    "sven": {"A": SERVICE, "B": SERVICE, "Z": SERVICE, "M": SERVICE},
}


@pytest.fixture
def org(core):
    with session_scope(core.engine) as s:
        mary, alice, bob, zed = f.east_and_west(s)
        f.staff(s, name="agnes", role="agent", team="service")
        f.staff(s, name="sven", role="supervisor", team="service")
        for name, owner in (("Alpha", alice), ("Bravo", bob), ("Zulu", zed), ("Mike", mary)):
            c = f.customer(s, name=f"{name} Trading", owner=owner, contact=None)
            s.add(Opportunity(code=opportunity_code(s, customer_code=c.code), customer_id=c.id, name="o",
                              stage="initial", owner_id=owner.id, created_at=NOW, updated_at=NOW))
    return core


def outcome(out: str) -> str:
    if "⚠" not in out:
        return OK
    if any(says(out, key) for key in ("lookup.not_found", "lookup.not_found_suggest", "opp.not_found")):
        return HIDDEN
    return DENIED


CASES = [(who, rec, action) for who, recs in EXPECTED.items() for rec in recs for action in ACTIONS]


@pytest.mark.parametrize(("who", "record", "action"), CASES)
def test_permissions_matrix(org, who, record, action):
    out = ConsoleSession(org, user=who).send(ACTIONS[action].format(code=CODES[record]))
    assert outcome(out) == EXPECTED[who][record][action], out


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("who", ["alice", "mary"])
def test_permissions_hidden_reads_exactly_like_missing(org, who, action):
    hidden = ConsoleSession(org, user=who).send(ACTIONS[action].format(code=CODES["Z"]))
    missing = ConsoleSession(org, user=who).send(ACTIONS[action].format(code="ABC2026999"))
    assert hidden.replace(CODES["Z"], "<code>") == missing.replace("ABC2026999", "<code>")


def test_permissions_hidden_by_name_reads_like_missing(org):
    hidden = ConsoleSession(org, user="alice").send("/customer Zulu")
    missing = ConsoleSession(org, user="alice").send("/customer Yankee")
    assert hidden.replace("Zulu", "<q>") == missing.replace("Yankee", "<q>")


def test_permissions_agent_card_shows_basics_only(org):
    out = ConsoleSession(org, user="agnes").send("/customer ABC2026001")
    assert "Alpha Trading" in out and t("en", "cust.card.tickets") in out
    assert t("en", "cust.card.followups") not in out and t("en", "cust.card.opps") not in out


def test_permissions_owner_reassignment_is_for_managers(org):
    assert outcome(ConsoleSession(org, user="alice").send("/customer edit ABC2026001 owner=bob")) == DENIED
    assert outcome(ConsoleSession(org, user="mary").send("/customer edit ABC2026001 owner=zed")) == DENIED
    assert outcome(ConsoleSession(org, user="mary").send("/customer edit ABC2026001 owner=bob")) == OK
    assert outcome(ConsoleSession(org, user="alice").send("/customer ABC2026001")) == HIDDEN


def test_permissions_owner_change_is_audited_by_name(org):
    from sqlalchemy import select

    from storage.models import AuditLog

    out = ConsoleSession(org, user="mary").send("/customer edit ABC2026001 owner=bob")
    assert "alice → bob" in out
    with session_scope(org.engine) as s:
        row = s.scalar(select(AuditLog).where(AuditLog.field == "owner"))
        assert (row.old, row.new) == ("alice", "bob")
