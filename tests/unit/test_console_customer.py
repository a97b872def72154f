"""`crm-bot console --customer CODE`: the customer's side of the service desk in a terminal — open a ticket by
writing, get the agent's messages, confirm the fix, rate — while staff work the ticket in their own consoles."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.console import repl
from bot.console.driver import ConsoleSession
from storage.db import create_all, make_engine, session_scope
from storage.models import ChatBinding, Ticket
from tests import factories as f
from tests.says import says


@pytest.fixture
def desk(core):
    with session_scope(core.engine) as s:
        mark = f.staff(s, name="mark", role="supervisor", team="service")
        f.staff(s, name="grace", role="agent", team="service", manager=mark)
        rep = f.staff(s, name="lina", role="rep")
        f.customer(s, name="Hangzhou Cloud", owner=rep, contact="Wang Lei")
        f.customer(s, name="Hangzhou Steel", owner=rep, contact=None)
    return core


def customer(core, text: str, code: str = "ABC2026001") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = repl.run_customer(core, code, out=out, inp=io.StringIO(text))
    return rc, out.getvalue(), err.getvalue()


def test_console_customer_whole_service_flow(desk):
    rc, out, _ = customer(desk, "the printer jams every hour\n4\n1\n")
    assert rc == 0 and says(out, "tk.cust_from_text") and says(out, "tk.cust_created", code="FW2026001")
    with session_scope(desk.engine) as s:
        tk = s.scalar(select(Ticket))
        assert tk.contact_id is not None and tk.created_by_id is None  # opened by the customer's contact
        b = s.scalar(select(ChatBinding))
        assert (b.platform, b.chat_ref) == ("console", "customer:ABC2026001")
    ConsoleSession(desk, user="mark").send("/ticket assign FW2026001 grace")
    grace = ConsoleSession(desk, user="grace")
    grace.send("/ticket accept FW2026001")
    grace.send("/ticket reply FW2026001 an engineer comes tomorrow")
    grace.send("/ticket resolve FW2026001 replaced the feed roller")
    # the customer comes back: what the desk sent meanwhile is shown, and its buttons work (n1, n2 …)
    rc, out, _ = customer(desk, "n1\nn7\nvery quick, thanks\n")
    assert rc == 0 and "[n7] 5★" in out  # the rating request's buttons are labelled after the earlier ones
    assert "an engineer comes tomorrow" in out and says(out, "tk.cust_resolved", code="FW2026001")
    assert says(out, "tk.cust_confirmed", code="FW2026001")  # n1: solved, thanks
    assert says(out, "rate.thanks", n=5)  # the rating request came with the closing
    with session_scope(desk.engine) as s:
        tk = s.scalar(select(Ticket))
        assert (tk.status, tk.rating, tk.rating_comment) == ("closed", 5, "very quick, thanks")
        assert len(list(s.scalars(select(ChatBinding)))) == 1  # the same chat, bound once


def test_console_customer_by_name_and_the_errors(desk, capsys):
    rc, out, _ = customer(desk, "/tickets\n", code="hangzhou cloud")
    assert rc == 0 and says(out, "tk.queue_empty")  # Hangzhou Cloud: one name matches
    rc, _, _ = customer(desk, "", code="Hangzhou")  # two customers match: both are listed
    err = capsys.readouterr().err
    assert rc == 2 and says(err, "inv.console_ambiguous", query="Hangzhou") and "ABC2026002" in err
    rc, _, _ = customer(desk, "", code="ABC2026002")  # no contact to chat as
    assert rc == 2 and says(capsys.readouterr().err, "inv.no_contacts")
    rc, _, _ = customer(desk, "", code="ABC2026999")
    assert rc == 2 and says(capsys.readouterr().err, "lookup.not_found", query="ABC2026999")


def test_console_customer_command_line(tmp_path, monkeypatch, capsys, settings):
    db = tmp_path / "crm.db"
    engine = make_engine(f"sqlite:///{db}")
    create_all(engine)
    with session_scope(engine) as s:
        f.customer(s, name="Hangzhou Cloud", owner=f.staff(s, name="lina"), contact="Wang Lei")
    engine.dispose()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setattr("sys.stdin", io.StringIO("/help\n"))
    assert main(["console", "--customer", "ABC2026001"]) == 0
    assert says(capsys.readouterr().out, "help.title")
    assert main(["console", "--customer", "ABC2026009"]) == 2
