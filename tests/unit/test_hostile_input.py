"""Hostile and odd input gets a short, translated answer and stores nothing half-way (issue 10).

Each case runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL (integer columns are 32-bit there
and text may not hold NUL).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

from handlers import actions, inputs
from handlers.context import Inbound
from handlers.i18n import t
from handlers.router import Core
from storage.db import create_all, make_engine, session_scope
from storage.models import AuditLog, Customer, FollowUp, Opportunity, Purchase, Ticket, TicketEvent
from tests.unit.test_tickets_support import Desk

INTERNAL = t("en", "err.internal", ref="").split("(")[0].strip()


@pytest.fixture(params=["sqlite", "postgresql"])
def desk(request, settings, clock):
    if request.param == "sqlite":
        engine = make_engine("sqlite://")
    else:
        url = request.getfixturevalue("pg_url")
        engine = make_engine(url)
        SQLModel.metadata.drop_all(engine)
    create_all(engine)
    core = Core(engine, settings, secret=b"hostile", clock=clock)
    try:
        yield Desk(core, engine)
    finally:
        if request.param != "sqlite":
            SQLModel.metadata.drop_all(engine)
        engine.dispose()


def _ok(out: str) -> str:
    assert INTERNAL not in out and "ref " not in out, out
    return out


def _counts(desk: Desk) -> tuple[int, ...]:
    with session_scope(desk.engine) as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Ticket, TicketEvent, FollowUp,
                                                                            AuditLog))


def _ticket(desk: Desk) -> str:
    desk.user("sue").send(f"/ticket new {desk.codes['c1']} support medium: printer offline")
    return "FW2026001"


def test_hostile_report_month_13_is_a_bad_period(desk):
    out = _ok(desk.user("mia").send("/report pipeline 2026-13"))
    assert t("en", "report.bad_period", value="2026-13") in out
    for period in ("0000-01", "9999-12", "2026-00", "٢٠٢٦-١١"):
        assert "⚠" in _ok(desk.user("mia").send(f"/report pipeline {period}"))
    desk.user("mia").send("/lang zh")  # in the user's language
    assert t("zh", "report.bad_period", value="2026-13") in _ok(desk.user("mia").send("/report pipeline 2026-13"))


def test_hostile_ticket_assign_huge_or_odd_staff_id_is_nobody(desk):
    code = _ticket(desk)
    before = _counts(desk)
    sue = desk.user("sue")
    huge = "99999999999999999999999"
    assert t("en", "tk.bad_assignee", ref=huge) in _ok(sue.send(f"/ticket assign {code} {huge}"))
    assert t("en", "tk.bad_assignee", ref="2147483648") in _ok(sue.send(f"/ticket assign {code} 2147483648"))
    assert "⚠" in _ok(sue.send(f"/ticket assign {code} {'9' * 5000}"))
    sue.send(f"/ticket assign {code} alan")
    assert t("en", "tk.bad_assignee", ref="²") in _ok(sue.send(f"/ticket reassign {code} ²"))
    assert desk.ticket(code).assignee_id == desk.ids["alan"]
    assert _counts(desk)[0] == before[0]


def test_hostile_ids_out_of_column_range_are_not_found(desk):
    ray = desk.user("ray")
    for fid in ("16211439078", "99999999999999999999999", "0", "²"):
        assert "⚠" in _ok(ray.send(f"/log undo {fid}"))
        assert "⚠" in _ok(ray.send(f"/followups done {fid}"))
        assert "⚠" in _ok(desk.user("mia").send(f"/customer approve {fid}"))


def test_hostile_nul_and_invisible_characters_are_removed_at_the_edge(desk):
    code = desk.codes["c1"]
    ray = desk.user("ray")
    out = _ok(ray.send(f"/log {code}\x00 phone: price\x00 agreed\u200b, call back"))
    assert "⚠" not in out
    with session_scope(desk.engine) as s:
        assert s.scalar(select(FollowUp.content)) == "price agreed, call back"
    assert t("en", "cust.search_help") in _ok(ray.send("/customer \x00"))  # nothing left: the usage
    _ok(ray.send("/customer add name=\x00Acme\x00 industry=IT type=potential contact=\x00Li"))
    with session_scope(desk.engine) as s:
        assert s.scalar(select(Customer.name).where(Customer.name.like("%Acme%"))) == "Acme"


@pytest.mark.parametrize("typed", ["{code}\u200b", "\u202e{code}", "{code}\ufeff", "{wide}", "\u2066{code}\u2069"])
def test_hostile_zero_width_bidi_and_full_width_codes_still_find_the_customer(desk, typed):
    code = desk.codes["c1"]
    wide = code.translate({i: i + 0xFEE0 for i in range(0x21, 0x7F)})  # ＡＢＣ２０２６００１
    out = _ok(desk.user("ray").send("/customer " + typed.format(code=code, wide=wide)))
    assert "杭州云栖科技有限公司" in out and "⚠" not in out


def test_hostile_zero_width_in_ticket_and_verb(desk):
    code = _ticket(desk)
    out = _ok(desk.user("sue").send(f"／ticket\u200b {code}\u200b"))
    assert code in out and "⚠" not in out


def test_hostile_button_token_with_non_ascii_signature_is_invalid(desk):
    core, before = desk.core, _counts(desk)
    for token in ("/help|zz|ääääääääää", "/help|zz|\udcff", "/he\x00lp|zz|abcdefghij", "é" * 64):
        r = core.handle(Inbound(platform="console", user_ref="sue", chat_ref="@sue", token=token,
                                scopes=("c:@sue",)))
        assert [v.text for v in r.views] == [t("en", "button.invalid")]
    assert _counts(desk) == before


def test_hostile_customer_message_over_3000_characters_is_kept_whole(desk):
    cust = desk.customer()
    long = ("The invoice module fails. " * 140).strip()  # 3,639 characters
    assert 3000 < len(long) <= desk.core.settings.max_text
    cust.send(long)
    cust.press_cmd("support")
    cust.press_cmd("medium")
    assert desk.ticket("FW2026001").description == long
    too_long = "x" * (desk.core.settings.max_text + 1)
    out = _ok(cust.send(too_long))
    assert t("en", "err.too_long", max=desk.core.settings.max_text) in out
    assert desk.ticket("FW2026002") is None


# ---------------------------------------------------------------- the shared parsers


def test_inputs_clean_removes_what_cannot_be_stored_or_seen():
    assert inputs.clean("a\x00b\u200bc\u202ed\ufeff\u2066e\u2069") == "abcde"
    assert inputs.clean("line1\nline2\tend") == "line1\nline2\tend"
    assert inputs.clean("x\udcffy") == "x\ufffdy"
    assert inputs.clean("\ud83d\ude00") == "😀"  # a pair written as two halves is one character
    assert inputs.clean("👩\u200d💻 ok\u200d") == "👩\u200d💻 ok"  # the joiner stays inside an emoji
    assert inputs.key(" ＡＢＣ２０２６００１\u200b ") == "ABC2026001"


@pytest.mark.parametrize(("text", "want"), [("12", 12), ("１２", 12), ("²", None), ("٣", None), ("0", None),
                                            ("-1", None), ("2147483647", 2147483647), ("2147483648", None),
                                            ("9" * 5000, None), ("1e3", None), ("", None), (" 7 ", 7)])
def test_inputs_parse_id_reads_only_plain_digits_in_column_range(text, want):
    assert inputs.parse_id(text) == want


def test_actions_decode_refuses_non_ascii_tokens_as_bad():
    with pytest.raises(actions.BadToken):
        actions.decode("/help|zz|ääääääääää", scopes=("c:x",), secret=b"s")


def test_hostile_edit_form_without_a_field_names_both_errors(desk):
    from handlers.dialogs import engine as dialogs

    with pytest.raises(dialogs.FormErrors) as e:
        desk.core.handle(Inbound(platform="console", user_ref="ray", chat_ref="@ray", dialog="customer_edit_field",
                                 form={"customer": desk.codes["c1"], "field": "", "value": "x"}, surface="form"))
    assert e.value.errors == {"field": t("en", "dlg.required"), "value": t("en", "cust.err.field_first")}


def test_hostile_console_superscript_digit_is_text_not_a_choice(desk):
    sue = desk.user("ray")
    sue.send("/pool")  # a reply with numbered choices
    assert sue.last.actions
    _ok(sue.send("²"))  # typed text: before, int('²') crashed the console driver
    sue.send("/pool")
    assert t("en", "router.not_a_command") not in _ok(sue.send("１"))  # a full-width 1 presses choice 1


def test_hostile_dates_at_the_ends_of_the_calendar_are_refused(desk):
    from handlers import dates
    from handlers.errors import InvalidInput

    for fn, text in ((dates.parse_day, "0001-01-01"), (dates.parse_when, "jan 1 0001")):
        with pytest.raises(InvalidInput):
            fn(text, now=desk.core.clock(), tz="Asia/Shanghai", lang="en")
    ray, code = desk.user("ray"), desk.codes["c1"]
    assert t("en", "cust.err.date", value="0001-01-01") in _ok(ray.send(f"/purchase {code} 100 widget 0001-01-01"))
    assert "⚠" in _ok(ray.send(f"/opp add {code} X amount=1 close=9999-12-31"))
    assert "⚠" in _ok(ray.send(f"/history {code} from: 0001-01-01"))


def test_hostile_overlong_values_are_refused_not_cut_or_crashed(desk):
    """A value longer than its column: refused with the limit on SQLite too (PostgreSQL would raise)."""
    ray, code = desk.user("ray"), desk.codes["c1"]
    assert t("en", "err.too_long", max=200) in _ok(ray.send(f"/purchase {code} 100 {'A' * 201}"))
    ray.send(f"/opp add {code} ERP amount=100 close=2027-01-31")
    for st in ("needs", "proposal", "negotiation"):
        ray.send(f"/opp stage {code}OP01 {st} ok")
    out = _ok(ray.send(f"/opp stage {code}OP01 won amount=5 contract={'C' * 101}"))
    assert t("en", "err.too_long", max=100) in out
    with session_scope(desk.engine) as s:
        assert s.scalar(select(func.count()).select_from(Purchase)) == 0
        assert s.scalar(select(Opportunity.stage)) == "negotiation"


def test_hostile_amounts_that_round_to_nothing_or_overflow_are_refused(desk):
    ray, code = desk.user("ray"), desk.codes["c1"]
    for amount in ("0.001", "9" * 200, "1e400"):
        assert t("en", "cust.err.amount", value=amount) in _ok(ray.send(f"/purchase {code} {amount} widget"))
    assert "⚠" in _ok(ray.send(f"/purchase {code} 100 widget date=9999年12月31日"))
    assert "⚠" in _ok(ray.send(f"/purchase {code} 100 widget date=1年1月2日"))
    with session_scope(desk.engine) as s:
        assert s.scalar(select(func.count()).select_from(Purchase)) == 0


def test_hostile_cli_staff_name_is_cleaned_and_a_huge_telegram_id_refused(tmp_path, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/crm.db")
    assert main(["staff", "add", "--name", "\u202ebob\u200b", "--role", "agent"]) == 0
    assert main(["staff", "add", "--name", "tg", "--role", "agent", "--telegram-id", "9" * 30]) == 2
    assert main(["staff", "add", "--name", "\u200b", "--role", "agent"]) == 2
    capsys.readouterr()
    assert main(["staff", "list", "--format", "json"]) == 0
    assert [r["name"] for r in json.loads(capsys.readouterr().out)] == ["bob"]
