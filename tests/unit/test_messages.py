"""What a new user tripped over: queue and status synonyms, errors that blame the right word or field, and
scope words (team/all) that are for managers. Each test drives the console as a user would."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.console.driver import ConsoleSession
from handlers.i18n import t
from storage.db import session_scope
from storage.models import FollowUp, Opportunity, Ticket
from tests import factories as f


@pytest.fixture
def team(core):
    with session_scope(core.engine) as s:
        mary = f.staff(s, name="mary", role="manager", team="east")
        alice = f.staff(s, name="alice", team="east", manager=mary)
        f.staff(s, name="sue", role="supervisor", team=None)
        f.customer(s, name="合力环保", owner=alice)  # ABC2026001
    return core


def chat(core, user: str) -> ConsoleSession:
    return ConsoleSession(core, user=user)


def error_of(out: str) -> str:
    assert out.startswith("⚠ "), out
    return out[2:].splitlines()[0]


# ---------------------------------------------------------------- /tickets words


@pytest.mark.parametrize(("word", "title"), [
    ("未分配", "tk.queue.unassigned"), ("待分配", "tk.queue.unassigned"), ("unassigned", "tk.queue.unassigned"),
    ("pool", "tk.queue.unassigned"), ("逾期", "tk.queue.breaching"), ("overdue", "tk.queue.breaching"),
    ("进行中", "tk.queue.open"), ("我的", "tk.queue.mine"), ("所有", "tk.queue.all"),
])
def test_messages_tickets_queue_synonyms_in_both_languages(team, word, title) -> None:
    out = chat(team, "sue").send(f"/tickets {word}")
    assert t("en", title) in out and "⚠" not in out


def test_messages_tickets_status_words_filter(team) -> None:
    sue, alice = chat(team, "sue"), chat(team, "alice")
    alice.send("/ticket new ABC2026001 complaint high: the pump leaks")
    alice.send("/ticket new ABC2026001 consult low: a question")
    sue.send("/ticket assign FW2026002 sue")
    with session_scope(team.engine) as s:
        assert s.scalar(select(Ticket.status).where(Ticket.code == "FW2026002")) == "in_progress"
    for words in ("处理中", "status:处理中", "状态:in_progress", "status：处理中"):
        out = sue.send(f"/tickets {words}")
        assert "FW2026002" in out and "FW2026001" not in out, words
    out = sue.send("/tickets status:未分配")
    assert "FW2026001" in out and "FW2026002" not in out


# ---------------------------------------------------------------- errors that name the right thing


def test_messages_won_amount_error_names_the_actual_amount(team) -> None:
    a = chat(team, "alice")
    a.send("/opp add ABC2026001 Pumps amount=100000 close=2026-12-31")
    err = error_of(a.send("/opp stage ABC2026001OP01 won amount=-5 contract=HT-1"))
    assert err.startswith(t("en", "opp.f.actual") + ":") and t("en", "opp.f.amount") not in err


def test_messages_close_in_the_past_says_the_label_once(team) -> None:
    err = error_of(chat(team, "alice").send("/opp add ABC2026001 Pumps amount=100 close=2020-01-01"))
    label = t("en", "opp.f.close")
    assert err.startswith(label + ":") and err.count(label) == 1 and "2020-01-01" in err
    assert err.lower().count("close") == 1


def test_messages_close_end_of_next_month_as_the_prompt_suggests(team) -> None:
    assert "end of next month" in t("en", "opp.dlg.close_hint")
    chat(team, "alice").send("/opp add ABC2026001 Pumps amount=100 close=end of next month")
    with session_scope(team.engine) as s:
        assert str(s.scalar(select(Opportunity.expected_close_date))) == "2026-12-31"


def test_messages_close_end_of_month_on_its_last_day_is_today(team, clock) -> None:
    clock.now = datetime(2026, 11, 30, 3, 18, tzinfo=UTC)  # 11:18 on the month's last day
    chat(team, "alice").send("/opp add ABC2026001 Pumps amount=100 close=月底")
    with session_scope(team.engine) as s:
        assert str(s.scalar(select(Opportunity.expected_close_date))) == "2026-11-30"


def test_messages_log_second_feedback_word_is_named(team) -> None:
    err = error_of(chat(team, "alice").send("/log ABC2026001 phone positive negative: they called back"))
    assert err == t("en", "err.word_twice", second="negative", first="positive",
                    kind=t("en", "err.word_kind.feedback"))
    with session_scope(team.engine) as s:
        assert s.scalar(select(FollowUp)) is None


def test_messages_log_typo_suggests_the_close_word(team) -> None:
    err = error_of(chat(team, "alice").send("/log 合力环保 fone: they called back"))
    assert "ABC2026001" in err and '"fone"' in err and err.endswith(t("en", "err.did_you_mean", words="phone"))


def test_messages_ticket_new_blames_the_words_not_the_customer(team) -> None:
    err = error_of(chat(team, "alice").send("/ticket new 合力环保 complain hgh: the pump leaks"))
    assert "ABC2026001" in err and '"complain hgh"' in err
    assert err.endswith(t("en", "err.did_you_mean", words="complaint, high"))
    err = error_of(chat(team, "alice").send("/ticket new 合力环保 complaint high low: the pump leaks"))
    assert err == t("en", "err.word_twice", second="low", first="high", kind=t("en", "err.word_kind.priority"))
    with session_scope(team.engine) as s:
        assert s.scalar(select(Ticket)) is None


def test_messages_ticket_new_unknown_customer_is_still_the_customer(team) -> None:
    err = error_of(chat(team, "alice").send("/ticket new 无此公司 complaint high: the pump leaks"))
    assert "无此公司" in err and "ABC2026001" not in err.split("(")[0]


def test_messages_export_bad_format_blames_the_format(team) -> None:
    a = chat(team, "alice")
    out = a.send("/export opportunities xml")
    assert error_of(out) == t("en", "export.bad_format", value="xml", formats="XLSX, CSV, JSON")
    assert "opportunities" not in out.splitlines()[0]
    assert "CSV" in a.send("2")  # the offered formats work


# ---------------------------------------------------------------- team/all are for managers


@pytest.mark.parametrize(("typed", "word", "own"), [
    ("/followups team", "team", "/followups"), ("/followups 团队", "团队", "/followups"),
    ("/opp list team", "team", "/opp list"), ("/opp list all", "all", "/opp list"), ("/opp 团队", "团队", "/opp list"),
])
def test_messages_team_scope_as_a_rep_says_it_is_for_managers(team, typed, word, own) -> None:
    assert error_of(chat(team, "alice").send(typed)) == t("en", "err.scope_managers", word=word, cmd=own)


@pytest.mark.parametrize("cmd", ["/followups team", "/opp list team", "/opp list all"])
def test_messages_team_scope_works_for_a_manager(team, cmd) -> None:
    assert "⚠" not in chat(team, "mary").send(cmd)
