"""The core's observers (handlers/observe.py) and the log lines bot/logs.py makes of them: one event per unit
of work with the canonical verb and the outcome, never the message text; JSON lines; secrets and phones
redacted."""

from __future__ import annotations

import json
import logging

from bot import logs
from bot.console.driver import ConsoleSession
from handlers import observe
from handlers.context import Inbound
from handlers.errors import UserError
from storage.db import session_scope
from tests import factories as f
from tests.fakes.slack_testkit import registered


def _heard(core) -> list[observe.UnitDone]:  # noqa: ANN001
    heard: list[observe.UnitDone] = []
    core.observers.append(heard.append)
    return heard


def test_observe_canonical_verb_outcome_and_staff(core):
    with session_scope(core.engine) as s:
        alice_id = f.staff(s, name="alice").id
    heard = _heard(core)
    c = ConsoleSession(core, user="alice")
    c.send("/h")  # an alias of /help
    c.send("/hepl")
    c.send("hello there 13812345678")
    assert [(e.verb, e.outcome) for e in heard] == [("help", "ok"), ("unknown", "ok"), ("text", "ok")]
    assert {e.staff_id for e in heard} == {alice_id} and {e.platform for e in heard} == {"console"}
    assert all(e.duration >= 0 and e.request_id for e in heard)
    assert "13812345678" not in repr(heard)  # an event never carries the text


def test_observe_user_error_unexpected_error_and_repeat(core):
    def boom(ctx, args):  # noqa: ANN001, ANN202
        raise RuntimeError("secret detail")

    def refuse(ctx, args):  # noqa: ANN001, ANN202
        raise UserError("err.forbidden_role", verb="x")

    with session_scope(core.engine) as s:
        f.staff(s, name="bob")
    heard = _heard(core)
    with registered({"t_boom": boom, "t_refuse": refuse}):
        c = ConsoleSession(core, user="bob")
        c.send("/t_refuse")
        c.send("/t_boom")
    # a command that writes, delivered twice: the second is a repeat (a read-only one is simply answered again)
    once = Inbound(platform="console", user_ref="bob", chat_ref="@bob", text="/lang zh", update_key="u1")
    core.handle(once)
    core.handle(once)
    assert [(e.verb, e.outcome) for e in heard] == [("t_refuse", "user_error"), ("t_boom", "error"),
                                                    ("lang", "ok"), ("lang", "repeat")]
    assert heard[2].staff_id == heard[0].staff_id is not None  # bob, as for his other commands


def test_observe_a_failing_observer_never_breaks_the_reply(core, caplog):
    with session_scope(core.engine) as s:
        f.staff(s, name="carol")

    def broken(ev):  # noqa: ANN001, ANN202
        raise ValueError("observer bug")

    core.observers.append(broken)
    out = ConsoleSession(core, user="carol").send("/help")
    assert "/lang" in out
    assert any("observer" in r.getMessage() for r in caplog.records)


def test_observe_request_id_comes_from_the_adapter_when_it_has_one(core):
    heard = _heard(core)
    token = observe.request_id.set("req-42")
    try:
        core.handle(Inbound(platform="telegram", user_ref="9", chat_ref="9", text="/help"))
    finally:
        observe.request_id.reset(token)
    assert heard[0].request_id == "req-42"


def _json_lines(records: list[logging.LogRecord]) -> list[dict]:
    h = logs.make_handler("json")
    out = []
    for r in records:
        h.filter(r)
        line = h.format(r)
        assert "\n" not in line
        out.append(json.loads(line))
    return out


def test_logs_json_unit_line_has_the_fields_and_no_text(core, caplog):
    caplog.set_level(logging.INFO, logger="crm.unit")
    with session_scope(core.engine) as s:
        dan = f.staff(s, name="dan").id
    core.observers.append(logs.log_unit)
    ConsoleSession(core, user="dan").send("/help")
    [line] = _json_lines([r for r in caplog.records if r.name == "crm.unit"])
    assert line["event"] == "command" and line["level"] == "INFO"
    assert (line["platform"], line["staff_id"], line["verb"], line["outcome"]) == ("console", dan, "help", "ok")
    assert line["duration_ms"] >= 0 and line["request_id"] and line["time"].endswith("+00:00")


def test_logs_redact_secrets_phones_and_emails_in_messages_and_tracebacks():
    log = logging.getLogger("crm.test.redact")
    try:
        raise ValueError("contact zhang@example.com at +86 138 1234 5678")
    except ValueError:
        rec = log.makeRecord(log.name, logging.ERROR, __file__, 1, "GET https://api.telegram.org/bot%s/getMe %s %s",
                             ("123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "xoxb-1-2-abc", "13812345678"),
                             __import__("sys").exc_info())
    [line] = _json_lines([rec])
    text = json.dumps(line)
    for secret in ("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "xoxb-1-2-abc", "13812345678", "zhang@example.com",
                   "138 1234 5678"):
        assert secret not in text
    assert line["error"] == "ValueError" and "[phone]" in line["traceback"] and "[email]" in line["traceback"]
    assert "[secret]" in line["event"]


def test_logs_redaction_keeps_ids_dates_and_chat_ids():
    s = "chat -1001234567890 user 4242 staff 17 at 2026-12-05 16:47:39 ticket FW2026001 took 12 ms U012AB3CD"
    assert logs.redact(s) == s
