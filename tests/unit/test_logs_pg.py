"""Personal data stays out of the logs: a statement that fails carries phones and message texts as parameters;
the error handler logs the failure (with its reference) but never the values: not as parameters (`hide_parameters`
on every engine), not in PostgreSQL's "DETAIL: Failing row contains (…)". The failure is real: a trigger in the
database makes the row fail.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from bot.console.driver import ConsoleSession
from handlers.router import Core
from storage.db import create_all, make_engine, session_scope
from tests import factories as f

PHONE = "13912345678"
SECRET_TEXT = "wife in hospital, call after 8pm"

PG_TRIGGERS = [  # PostgreSQL then refuses the row and quotes it: "DETAIL:  Failing row contains (…)"
    "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN NEW.customer_id := NULL; RETURN NEW; END $$ "
    "LANGUAGE plpgsql",
    "CREATE TRIGGER refuse_contact BEFORE INSERT ON contact FOR EACH ROW EXECUTE FUNCTION refuse()",
    "CREATE TRIGGER refuse_followup BEFORE INSERT ON followup FOR EACH ROW EXECUTE FUNCTION refuse()",
]
SQLITE_TRIGGERS = [
    "CREATE TRIGGER refuse_contact BEFORE INSERT ON contact BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END",
    "CREATE TRIGGER refuse_followup BEFORE INSERT ON followup BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def refusing_engine(request, tmp_path):
    pg = request.param == "postgresql"
    if pg:
        engine = request.getfixturevalue("pg_db")
        with engine.begin() as c:
            c.execute(text("DROP FUNCTION IF EXISTS refuse() CASCADE"))
    else:
        engine = make_engine(f"sqlite:///{tmp_path / 'logs.db'}")
        create_all(engine)
    with engine.begin() as c:
        for stmt in PG_TRIGGERS if pg else SQLITE_TRIGGERS:
            c.execute(text(stmt))
    yield engine
    if pg:
        with engine.begin() as c:  # the triggers go with the function; the tables stay for the next test
            c.execute(text("DROP FUNCTION IF EXISTS refuse() CASCADE"))
    else:
        engine.dispose()


def test_a_failing_statement_logs_no_phone_and_no_message_text(refusing_engine, settings, clock, caplog):
    with session_scope(refusing_engine) as s:
        alice = f.staff(s, name="alice")
        code = f.customer(s, name="Quiet Ltd", owner=alice, contact=None).code
    core = Core(refusing_engine, settings, secret=b"logs", clock=clock)
    chat = ConsoleSession(core, user="alice")
    with caplog.at_level(logging.DEBUG):
        added = chat.send(f'/customer add name="Loud Ltd" industry=IT type=intent contact="Wang" phone={PHONE}')
        logged = chat.send(f"/log {code} phone: {SECRET_TEXT}")
    assert "ref " in added and "ref " in logged  # both failed in the database and were logged with a ref
    errors = [r for r in caplog.records if r.name == "crm.router" and r.levelno >= logging.ERROR]
    assert len(errors) == 2
    assert all(r.exc_info for r in errors)  # the traceback is still there for the operator
    assert "refused by a trigger" in caplog.text or "violates not-null constraint" in caplog.text
    assert PHONE not in caplog.text and SECRET_TEXT not in caplog.text and "Loud Ltd" not in caplog.text
