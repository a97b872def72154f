"""The database goes away: every platform answers "the service is busy, try again shortly" and keeps running;
when the database is back, the same running process works again (no restart)."""

from __future__ import annotations

import io
import json
import uuid

import pytest

from handlers.i18n import t
from storage.db import make_engine
from tests.fakes.db_outage import Outage
from tests.fakes.slack_fixtures import make_env
from tests.says import says

BUSY = t("en", "err.busy")


def shown(call) -> str:  # noqa: ANN001
    return json.dumps(call.blocks, ensure_ascii=False) + str(call.args.get("text", ""))


@pytest.fixture
def slack_down(tmp_path, settings, clock):  # noqa: ANN001, ANN201
    engine = make_engine(Outage().url())
    env = make_env(tmp_path, settings, clock, engine=engine)
    yield env
    env.server.stop()
    env.fake.stop()
    engine.dispose()


def test_slack_command_while_the_database_is_down_answers_busy(slack_down):
    env = slack_down
    r = env.slack.command("/ticket", "new Acme complaint high: printer on fire", user="U1")
    assert r.status == 200
    [call] = env.fake.wait("response_url")
    assert BUSY in shown(call) and not says(shown(call), "err.internal")


def test_slack_button_submission_and_message_while_the_database_is_down_answer_busy(slack_down):
    env = slack_down
    env.slack.action({"type": "button", "action_id": "crm_btn_0", "value": "token", "block_id": "b"}, user="U1")
    [pressed] = env.fake.wait("response_url")
    assert BUSY in shown(pressed)
    submitted = env.slack.submit({"id": "V1", "hash": "h1", "type": "modal", "callback_id": "crm_form",
                                  "private_metadata": json.dumps({"c": "C1", "d": "log_call"}), "blocks": []},
                                 {}, user="U1")
    assert submitted.status == 200 and submitted.json()["response_action"] == "update"
    assert BUSY in json.dumps(submitted.json()["view"], ensure_ascii=False)
    env.slack.dm("/help", user="U1", channel="D1")
    [dm] = env.fake.wait("chat.postMessage")
    assert dm.args["channel"] == "D1" and BUSY in shown(dm)
    env.slack.command("/help", user="U1")  # and it keeps answering
    assert BUSY in shown(env.fake.wait("response_url", 2)[1])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_telegram_while_the_database_is_down_answers_busy(settings, clock):
    from handlers.router import Core
    from tests.fakes.telegram_api import FakeTelegram
    from tests.fakes.telegram_harness import running_bot

    engine = make_engine(Outage().url())
    core = Core(engine, settings, secret=b"tg-test-secret", clock=clock)
    fake = FakeTelegram().start()
    try:
        with running_bot(core, fake):
            fake.push_message(chat_id=1003, user_id=1003, text="/ticket new Acme complaint: printer on fire")
            [m] = fake.wait_sent(1003)
            fake.push_callback(chat_id=1003, user_id=1003, data="some-token")
            [alert] = fake.wait_for(lambda: fake.calls_of("answerCallbackQuery"))
            fake.push_message(chat_id=1003, user_id=1003, text="/help")  # and it keeps answering
            second = fake.wait_sent(1003, 2)[1]
    finally:
        fake.stop()
        engine.dispose()
    assert BUSY in m["text"] and BUSY in second["text"]
    assert alert["text"] == BUSY and alert["show_alert"] is True


def test_console_session_while_the_database_is_down_answers_busy(settings, clock):
    from bot.console.driver import ConsoleSession
    from handlers.router import Core

    engine = make_engine(Outage().url())
    core = Core(engine, settings, secret=b"console-secret", clock=clock)
    try:
        out = ConsoleSession(core, user="alice").send("/ticket new Acme complaint: printer on fire")
    finally:
        engine.dispose()
    assert BUSY in out and not says(out, "err.internal")


def test_console_started_while_the_database_is_down_says_busy_in_one_line(settings, clock, capsys):
    from bot.console import repl
    from handlers.router import Core

    engine = make_engine(Outage().url())
    try:
        code = repl.run(Core(engine, settings, clock=clock), "alice", out=io.StringIO(), inp=Typed([]))
    finally:
        engine.dispose()
    err = capsys.readouterr().err
    assert code == 1 and BUSY in err and "Traceback" not in err and err.count("\n") == 1


# ---------------------------------------------------------------- on the real PostgreSQL: away, then back


@pytest.fixture
def pg_outage(pg_url):  # noqa: ANN001, ANN201
    """(outage, engine): an engine on the real PostgreSQL (a schema of its own) through a port the test cuts."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from storage.db import create_all

    schema = f"outage_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    outage = Outage()
    outage.up(pg_url)
    url = make_url(outage.url(pg_url)).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(url.render_as_string(hide_password=False))
    create_all(engine)
    try:
        yield outage, engine
    finally:
        outage.down()
        engine.dispose()
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_slack_database_away_then_back_without_a_restart(pg_outage, tmp_path, settings, clock):
    outage, engine = pg_outage
    env = make_env(tmp_path, settings, clock, engine=engine)
    try:
        env.staff("alice", slack_id="U1")
        env.slack.command("/help", user="U1")
        before = env.fake.wait("response_url")[0]
        outage.down()
        env.slack.command("/help", user="U1")
        away = env.fake.wait("response_url", 2)[1]
        outage.up(env.core.engine.url.render_as_string(hide_password=False).replace(
            f":{outage.port}/", ":5432/"))
        env.slack.command("/help", user="U1")
        back = env.fake.wait("response_url", 3)[2]
    finally:
        env.server.stop()
        env.fake.stop()
    assert t("en", "help.title") in shown(before) and t("en", "help.title") in shown(back)
    assert BUSY in shown(away)


class Typed:
    """stdin for the console REPL: each line may first run an action (cut or restore the database)."""

    def __init__(self, lines: list[tuple[str, object]]) -> None:
        self.lines = list(lines)

    def isatty(self) -> bool:
        return False

    def readline(self) -> str:
        if not self.lines:
            return ""
        line, before = self.lines.pop(0)
        if callable(before):
            before()
        return line + "\n"


def test_console_database_away_then_back_without_a_restart(pg_outage, pg_url, settings, clock):
    from bot.console import repl
    from handlers.router import Core
    from storage.db import session_scope
    from tests import factories

    outage, engine = pg_outage
    with session_scope(engine) as s:
        factories.staff(s, name="alice", role="supervisor")
    core = Core(engine, settings, clock=clock)  # the button secret is read from the database
    out = io.StringIO()
    code = repl.run(core, "alice", out=out, inp=Typed([
        ("/help", None), ("/lang", None), ("1", outage.down), ("/help", None),
        ("/help", lambda: outage.up(pg_url)), ("/lang", None), ("1", None)]))
    shown_ = out.getvalue().split("» ")[1:]
    assert code == 0 and len(shown_) == 7
    assert t("en", "help.title") in shown_[0] and BUSY not in shown_[1]
    assert BUSY in shown_[2] and BUSY in shown_[3]  # a button pressed (its token signed), a command typed
    assert t("en", "help.title") in shown_[4] and BUSY not in shown_[5] + shown_[6]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_telegram_database_away_then_back_without_a_restart(pg_outage, pg_url, settings, clock):
    from handlers.router import Core
    from storage.db import session_scope
    from tests import factories
    from tests.fakes.telegram_api import FakeTelegram
    from tests.fakes.telegram_harness import running_bot

    outage, engine = pg_outage
    with session_scope(engine) as s:
        factories.staff(s, name="alice", role="supervisor", telegram_id=1003)
    fake = FakeTelegram().start()
    try:
        with running_bot(Core(engine, settings, clock=clock), fake):
            fake.push_message(chat_id=1003, user_id=1003, text="/help")
            before = fake.wait_sent(1003)[0]
            outage.down()
            fake.push_message(chat_id=1003, user_id=1003, text="/help")
            away = fake.wait_sent(1003, 2)[1]
            outage.up(pg_url)
            fake.push_message(chat_id=1003, user_id=1003, text="/help")
            back = fake.wait_sent(1003, 3)[2]
    finally:
        fake.stop()
    assert t("en", "help.title") in before["text"] and t("en", "help.title") in back["text"]
    assert BUSY in away["text"]


def test_outbox_sender_keeps_running_through_an_outage(pg_outage, pg_url, clock, caplog):
    import time

    from bot.console.driver import ConsoleTransport
    from bot.outbox import Sender, queue_reply
    from handlers.views import Reply, Text

    outage, engine = pg_outage
    transport = ConsoleTransport()
    sender = Sender(engine, {"console": transport}, clock=clock)
    sender.start(interval=0.05)
    try:
        outage.down()
        time.sleep(0.5)  # several passes fail while the database is away
        outage.up(pg_url)
        queue_reply(engine, key="k1", platform="console", chat_ref="@alice", scope="c:@alice",
                    reply=Reply(views=(Text("hello"),)), now=clock())
        sender.wake()
        deadline = time.monotonic() + 10
        while not transport.sent and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sender.stop()
    assert [d.text for d in transport.sent] == ["hello"]
    assert "the database is unavailable" in caplog.text and "Traceback" not in caplog.text
