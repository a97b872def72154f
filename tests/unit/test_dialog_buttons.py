"""Dialog steps with choices: a typed button label is the button, a button from another step is refused as
stale (never applied to the current step), and several matching customers are offered as buttons."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.console.driver import ConsoleSession
from handlers import actions
from handlers.i18n import t
from storage.db import session_scope
from storage.models import FollowUp
from tests import factories as f
from tests.unit.test_tickets_support import Desk


@pytest.fixture
def desk(core, engine) -> Desk:
    return Desk(core, engine)


def tokens(s: ConsoleSession) -> dict[str, str]:
    """The current choices as tokens, by command: pressed later, after the dialog moved on."""
    return {a.cmd.split(" @")[0]: actions.encode(a.cmd, scope=s.last_scope, secret=s.core.secret,
                                                 now=s.core.clock()) for a in s.last.actions}


# ---------------------------------------------------------------- a typed label is the button


@pytest.mark.parametrize("typed", [t("en", "tk.dlg.urgency.high"), t("zh", "tk.dlg.urgency.high"),
                                   t("en", "tk.dlg.urgency.high").upper()])
def test_dialog_typed_button_label_is_the_button(desk, typed) -> None:
    cust = desk.customer()
    cust.send("/ticket")
    cust.send("complaint")
    out = cust.send(typed)
    assert t("en", "tk.dlg.cust_description") in out and "⚠" not in out
    assert "FW2026001" in cust.send("The pump leaks")
    assert desk.ticket("FW2026001").priority == "high"


def test_dialog_typed_label_of_a_contact_step(desk) -> None:
    s = desk.user("ray")
    s.send("/ticket new")
    s.send("云栖")
    out = s.send("张伟")  # the contact button's label (its value is the contact's id)
    assert t("en", "tk.dlg.type") in out


# ---------------------------------------------------------------- stale buttons


def test_dialog_button_of_an_earlier_step_after_back_is_refused(desk) -> None:
    s = desk.user("ray")
    s.send("/log")
    s.send(desk.codes["c1"])
    method = tokens(s)  # the method step's buttons
    s.press_cmd("phone")
    feedback = tokens(s)  # the feedback step's buttons (and its Back)
    out = s.press_token(feedback["back"])
    assert t("en", "fu.dlg.method") in out
    out = s.press_token(feedback["positive"])  # from the feedback step, pressed at the method step
    assert t("en", "dlg.stale_button") in out and t("en", "fu.dlg.method") in out
    out = s.press_token(feedback["skip"])  # a stale Skip does not skip the method step either
    assert t("en", "dlg.stale_button") in out
    out = s.press_token(method["visit"])  # the method step's own button still works
    assert t("en", "fu.dlg.feedback") in out
    out = s.press_token(method["email"])  # …once: now it is stale
    assert t("en", "dlg.stale_button") in out and t("en", "fu.dlg.feedback") in out
    s.press_token(feedback["positive"])
    s.send("Called about the renewal")
    s.send("skip")
    s.send("skip")
    with session_scope(desk.engine) as db:
        fu = db.scalar(select(FollowUp))
    assert (fu.method, fu.feedback) == ("visit", "positive")


def test_dialog_button_after_the_dialog_ended(desk) -> None:
    s = desk.user("ray")
    s.send("/log")
    s.send(desk.codes["c1"])
    method = tokens(s)
    s.send("/cancel")
    out = s.press_token(method["phone"])
    assert out == t("en", "dlg.button_ended")


def test_dialog_typed_text_that_looks_like_a_button_is_just_text(desk) -> None:
    s = desk.user("ray")
    s.send("/log")
    out = s.send(f"{desk.codes['c1']} @log_call.customer")  # typed, not pressed: read as a customer query
    assert t("en", "dlg.stale_button") not in out


# ---------------------------------------------------------------- several customers: buttons


def test_dialog_log_many_matching_customers_are_buttons(core) -> None:
    with session_scope(core.engine) as s:
        ray = f.staff(s, name="ray")
        codes = [f.customer(s, name=f"云栖科技{i}号", owner=ray).code for i in range(10)]
    a = ConsoleSession(core, user="ray")
    a.send("/log")
    out = a.send("云栖")
    assert t("en", "lookup.pick", count=10) in out
    assert [c.split(" @")[0] for c in a.choices() if " @log_call.customer" in c] == codes  # all ten
    out = a.press_cmd(codes[9])
    assert t("en", "fu.dlg.method") in out
    a.press_cmd("phone")
    a.press_cmd("skip")
    a.send("Called")
    a.send("skip")
    a.send("skip")
    with session_scope(core.engine) as s:
        fu = s.scalar(select(FollowUp))
        assert fu is not None and fu.customer_id == 10


def test_dialog_customer_button_after_the_dialog_ended_opens_no_ticket(desk) -> None:
    cust = desk.customer()
    cust.send("/ticket")
    kinds = tokens(cust)
    cust.send("/cancel")
    assert cust.press_token(kinds["complaint"]) == t("en", "dlg.button_ended")
    assert desk.ticket("FW2026001") is None and t("en", "tk.dlg.urgency") not in cust.last.text
