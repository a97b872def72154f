"""The console REPL with scripted input: a notification (📨) printed after a reply keeps its own labels
(`[n1] Approve`), so typing a number still presses the reply's buttons, and the notification's buttons keep
working after later commands (pending approvals shown at start-up included)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.console import repl
from bot.console.driver import ConsoleSession
from handlers.i18n import t
from storage.db import session_scope
from storage.models import ApprovalRequest, Customer
from tests import factories as f


class Script(io.StringIO):
    """stdin for the REPL: each item is a line, or a callable run (something happening elsewhere) before the
    next line is read."""

    def __init__(self, *items: str | Callable[[], object]) -> None:
        super().__init__()
        self.items = list(items)

    def readline(self, *_: object) -> str:
        while self.items and callable(self.items[0]):
            self.items.pop(0)()
        return self.items.pop(0) + "\n" if self.items else ""


@pytest.fixture
def team(core):
    with session_scope(core.engine) as s:
        mary = f.staff(s, name="mary", role="manager", team="east", lang="en")
        alice = f.staff(s, name="alice", role="rep", team="east", manager=mary)
        f.customer(s, name="Deal Corp", owner=alice, type="deal", phone="13800000001")
    return core


def _alice_renames(core, name: str) -> Callable[[], None]:
    def go() -> None:
        with session_scope(core.engine) as s:
            code = s.scalar(select(Customer.code))
        ConsoleSession(core, user="alice").send(f'/customer edit {code} name="{name}"')
    return go


def _run(core, script: Script) -> list[str]:
    out = io.StringIO()
    assert repl.run(core, "mary", out=out, inp=script) == 0
    return out.getvalue().split("» ")


def _state(core) -> tuple[str, str]:
    with session_scope(core.engine) as s:
        return s.scalar(select(ApprovalRequest.status)), s.scalar(select(Customer.name))


def test_console_numbers_press_the_reply_not_a_later_notification(team):
    # alice asks while mary runs /lang: the approval is printed after the reply with the language buttons
    turns = _run(team, Script(_alice_renames(team, "Deal Corp Renamed"), "/lang", "2", "n1"))
    assert "[1] English" in turns[1] and "[2] 中文" in turns[1]
    assert "📨" in turns[1] and f"[n1] {t('en', 'appr.approve')}" in turns[1]
    assert f"[n2] {t('en', 'appr.reject')}" in turns[1]
    assert t("zh", "lang.set") in turns[2]  # "2" pressed 中文, not the notification's Reject
    assert t("zh", "appr.done_approved", code="ABC2026001", name="Deal Corp Renamed") in turns[3]
    assert _state(team) == ("approved", "Deal Corp Renamed")


def test_console_approval_shown_at_start_up_still_works_after_commands(team):
    _alice_renames(team, "Deal Corp Renamed")()
    turns = _run(team, Script("/help", "/lang", "1", "n2"))
    assert f"[n1] {t('en', 'appr.approve')}" in turns[0] and f"[n2] {t('en', 'appr.reject')}" in turns[0]
    assert t("en", "help.console") in turns[1]  # /help on the console explains the labels
    assert t("en", "lang.set") in turns[3]
    assert t("en", "appr.done_rejected", code="ABC2026001", name="Deal Corp") in turns[4]
    assert _state(team) == ("rejected", "Deal Corp")


def test_console_notification_labels_are_never_reused(team):
    _alice_renames(team, "First Name")()
    turns = _run(team, Script("n1", _alice_renames(team, "Second Name"), "/help", "n2", "n3"))
    # the first request was approved with n1; the second one's buttons are n3/n4, so n2 (the first one's
    # Reject) answers that it is decided already instead of pressing something else
    assert f"[n3] {t('en', 'appr.approve')}" in turns[2]
    assert "⚠" in turns[3]
    assert t("en", "appr.done_approved", code="ABC2026001", name="Second Name") in turns[4]
