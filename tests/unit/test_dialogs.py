import pytest

from bot.console.driver import ConsoleSession
from handlers.commands import COMMANDS, command
from handlers.context import Inbound
from handlers.dialogs import engine
from handlers.errors import InvalidInput
from handlers.i18n import enum_choices, parse_enum
from handlers.router import Core
from handlers.views import Reply, Text
from storage.db import session_scope
from tests import factories as f
from tests.says import says


def _int(ctx, text, values):
    if not text.isdigit():
        raise InvalidInput("err.bad_choice", value=text, choices="1-9")
    return int(text)


DONE: list[dict] = []


def _done(ctx, values):
    DONE.append(values)
    return Reply(views=(Text(f"saved {values}"),))


TEST_DIALOG = engine.Dialog("test_dlg", "help.title", (
    engine.Step("name", "help.help"),
    engine.Step("method", "help.log", parse=lambda c, t, v: parse_enum("method", t),
                choices=lambda c, v: enum_choices(c.lang, "method")),
    engine.Step("count", "help.opp", parse=_int, optional=True),
    engine.Step("note", "help.ticket", optional=True, when=lambda c, v: v.get("count") is not None),
), on_done=_done)


@pytest.fixture(autouse=True)
def _dialog():
    engine.register(TEST_DIALOG)

    @command("dlgtest", hidden=True)
    def start(ctx, args):
        return engine.start(ctx, "test_dlg")

    DONE.clear()
    yield
    COMMANDS.pop("dlgtest")
    engine.DIALOGS.pop("test_dlg")


@pytest.fixture
def alice(core):
    with session_scope(core.engine) as s:
        f.staff(s, name="alice")
    return ConsoleSession(core, user="alice")


def test_dialog_step_by_step_with_choice_buttons(alice):
    alice.send("/dlgtest")
    alice.send("Acme")
    alice.press_cmd("visit")
    alice.send("3")
    out = alice.send("bring the contract")
    assert "saved" in out
    assert DONE == [{"name": "Acme", "method": "visit", "count": 3, "note": "bring the contract"}]


def test_dialog_invalid_answer_reprompts_with_the_reason(alice):
    alice.send("/dlgtest")
    alice.send("Acme")
    out = alice.send("telepathy")
    assert "⚠" in out and "telepathy" in out
    alice.send("电话")
    out = alice.send("many")
    assert "⚠" in out
    alice.send("skip")  # count skipped → note is not asked
    assert DONE == [{"name": "Acme", "method": "phone", "count": None}]


def test_dialog_back_skip_and_cancel(alice):
    alice.send("/dlgtest")
    assert says(alice.send("skip"), "dlg.required")  # name is required
    alice.send("Acme")
    alice.send("back")
    alice.send("Beta")
    alice.send("phone")
    out = alice.send("取消")
    assert says(out, "dlg.cancelled")
    assert DONE == []
    assert says(alice.send("/cancel"), "dlg.nothing_to_cancel")


def test_dialog_survives_a_restart(core, alice, settings, clock):
    alice.send("/dlgtest")
    alice.send("Acme")
    restarted = Core(core.engine, settings, secret=b"test-secret", clock=clock)  # a new process, same DB
    again = ConsoleSession(restarted, user="alice")
    again.send("meeting")
    again.send("skip")
    assert DONE == [{"name": "Acme", "method": "meeting", "count": None}]


def test_dialog_expires_after_the_ttl(core, alice, clock, settings):
    alice.send("/dlgtest")
    clock.advance(seconds=settings.dialog_ttl.total_seconds() + 60)
    assert says(alice.send("Acme"), "router.not_a_command")
    assert DONE == []


def test_dialog_a_new_command_abandons_the_dialog(alice):
    alice.send("/dlgtest")
    assert says(alice.send("/help"), "help.title")
    assert says(alice.send("Acme"), "router.not_a_command")


def test_dialog_as_a_form_with_field_errors(core, alice):
    r = core.handle(Inbound(platform="console", user_ref="alice", chat_ref="@alice", text="/dlgtest",
                            surface="form"))
    assert r.form is not None and [fl.name for fl in r.form.fields] == ["name", "method", "count", "note"]
    assert r.form.fields[1].choices
    with pytest.raises(engine.FormErrors) as e:
        core.handle(Inbound(platform="console", user_ref="alice", chat_ref="@alice", dialog="test_dlg",
                            form={"name": "", "method": "telepathy", "count": "x"}))
    assert set(e.value.errors) == {"name", "method", "count"}
    ok = core.handle(Inbound(platform="console", user_ref="alice", chat_ref="@alice", dialog="test_dlg",
                             form={"name": "Acme", "method": "email", "count": "", "note": "n/a"}))
    assert "saved" in ok.views[0].text
    assert DONE == [{"name": "Acme", "method": "email", "count": None}]
