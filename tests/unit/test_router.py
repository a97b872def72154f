from bot.console.driver import ConsoleSession
from handlers.commands import VERBS, command, load_all, lookup
from handlers.context import Inbound
from handlers.views import Action, Button, Buttons, Error, Reply, Text, walk_actions
from tests import factories as f
from tests.says import says


def _staff(core, **kw):
    from storage.db import session_scope

    with session_scope(core.engine) as s:
        st = f.staff(s, **kw)
        return st.name


def test_router_help_answers_in_the_users_language(core):
    _staff(core, name="alice", lang="zh")
    out = ConsoleSession(core, user="alice").send("/help")
    assert says(out, "help.title", lang="zh") and "/lang" in out


def test_router_unknown_verb_suggests_the_closest(core):
    _staff(core, name="bob")
    out = ConsoleSession(core, user="bob").send("/hepl")
    assert "/help" in out and "⚠" in out


def test_router_stranger_gets_the_polite_explanation_only(core):
    r = core.handle(Inbound(platform="telegram", user_ref="999", chat_ref="999", text="/help"))
    assert len(r.views) == 1 and isinstance(r.views[0], Text)
    assert says(r.views[0].text, "auth.stranger")


def test_router_lang_switch_persists(core):
    _staff(core, name="carol", lang="en")
    c = ConsoleSession(core, user="carol")
    assert says(c.send("/lang zh"), "lang.set", lang="zh")
    assert says(c.send("/help"), "help.title", lang="zh")
    c.send("/lang")
    c.press_cmd("/lang en")
    assert says(c.send("/help"), "help.title")


def test_router_internal_error_gives_a_reference_not_a_traceback(core, caplog):
    @command("boom_test", hidden=True)
    def boom(ctx, args):
        raise RuntimeError("secret SQL detail")

    try:
        _staff(core, name="dave")
        out = ConsoleSession(core, user="dave").send("/boom_test")
        assert says(out, "err.internal") and "secret SQL" not in out and "Traceback" not in out
        assert "secret SQL detail" in caplog.text
    finally:
        from handlers.commands import COMMANDS

        COMMANDS.pop("boom_test")


def test_router_forged_button_token_is_refused_and_changes_nothing(core):
    _staff(core, name="erin", lang="en")
    c = ConsoleSession(core, user="erin")
    out = c.press_token("/lang zh|zzzz|AAAAAAAAAA")
    assert says(out, "button.invalid")
    assert says(c.send("/help"), "help.title")  # still English


def test_router_long_actions_are_stored_server_side_and_work(core):
    @command("echo_test", hidden=True)
    def echo(ctx, args):
        return Reply(views=(Text(f"echo:{args}"), Buttons((Button("again", Action("/echo_test 高预算" + "x" * 50)),))))

    try:
        _staff(core, name="fay")
        c = ConsoleSession(core, user="fay")
        c.send("/echo_test hi")
        (a,) = walk_actions(c.last_reply)
        assert a.cmd.startswith("#")
        assert "echo:高预算" in c.press(1)
        # the stored ref is bound to this chat: another chat cannot use it
        other = ConsoleSession(core, user="fay", chat="elsewhere")
        other.last = c.last
        out = other.press(1)
        assert says(out, "button.invalid") or says(out, "button.expired")
    finally:
        from handlers.commands import COMMANDS

        COMMANDS.pop("echo_test")


def test_router_duplicate_delivery_is_processed_once(core):
    _staff(core, name="gus", lang="en")
    first = core.handle(Inbound(platform="console", user_ref="gus", chat_ref="@gus", text="/lang zh",
                                update_key="u1"))
    again = core.handle(Inbound(platform="console", user_ref="gus", chat_ref="@gus", text="/lang en",
                                update_key="u1"))
    assert first.views and again.views == ()


def test_router_oversized_text_is_refused(core):
    _staff(core, name="hal")
    out = ConsoleSession(core, user="hal").send("/help " + "x" * 50_000)
    assert says(out, "err.too_long")


def test_router_verb_table_has_every_verb_with_help_in_both_languages():
    from handlers.i18n import has

    load_all()
    for v in VERBS:
        assert has(f"help.{v}") and has(f"usage.{v}")
    assert lookup("帮助").verb == "help"


def test_router_error_view_for_user_errors(core):
    from handlers.errors import NotFound

    @command("nf_test", hidden=True)
    def nf(ctx, args):
        raise NotFound("err.not_found")

    try:
        _staff(core, name="ivy")
        r = core.handle(Inbound(platform="console", user_ref="ivy", chat_ref="@ivy", text="/nf_test"))
        assert isinstance(r.views[0], Error)
    finally:
        from handlers.commands import COMMANDS

        COMMANDS.pop("nf_test")
