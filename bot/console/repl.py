"""The terminal chat: readline editing and history on a TTY; one message per line otherwise."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path

from bot.console.driver import ConsoleSession, ConsoleTransport
from bot.console.render import render
from bot.outbox import Sender
from handlers.errors import UserError
from handlers.i18n import t
from handlers.lookup import Ambiguous
from handlers.router import Core, failure_reply
from handlers.services import invites
from storage.db import session_scope, unavailable

log = logging.getLogger("crm.console")


def answer(session: ConsoleSession, line: str, lang: str) -> str:
    """The console loop's error boundary: what the core did not answer itself (e.g. the database went away
    while a button's token was being signed) gets the core's own short reply."""
    try:
        return session.send(line)
    except Exception as e:  # noqa: BLE001 - shown as "busy" or "something went wrong (ref …)", logged
        return render(failure_reply(lang, e), lang).text


def _setup_readline() -> None:
    try:
        import readline
    except ImportError:  # pragma: no cover - not on every platform
        return
    hist = Path(os.environ.get("CRM_CONSOLE_HISTORY", "~/.crm_bot_history")).expanduser()
    with contextlib.suppress(OSError):
        readline.read_history_file(hist)
    readline.set_history_length(1000)
    import atexit

    atexit.register(lambda: _save_history(readline, hist))


def _save_history(readline, hist: Path) -> None:  # noqa: ANN001
    with contextlib.suppress(OSError):
        readline.write_history_file(hist)


def run(core: Core, user: str, *, out=sys.stdout, inp=sys.stdin) -> int:  # noqa: ANN001
    try:
        me = core.actor("console", user, None)
    except Exception as e:
        if not unavailable(e):
            raise
        print(f"console: {t(core.settings.default_lang, 'err.busy')}", file=sys.stderr)
        return 1
    if not me.known:
        print(f"console: no staff member named {user!r} (see: crm-bot staff list)", file=sys.stderr)
        return 2
    session = ConsoleSession(core, user=user)
    chats = (f"@{user}", "#service") if me.role in ("supervisor", "admin") else (f"@{user}",)
    return loop(core, session, me.lang, chats, t(me.lang, "console.banner", user=user), out=out, inp=inp)


def run_customer(core: Core, code: str, *, out=None, inp=None) -> int:  # noqa: ANN001
    """`crm-bot console --customer CODE`: chat as the customer's primary contact, in a chat bound to them."""
    out, inp = out or sys.stdout, inp or sys.stdin
    lang = core.settings.default_lang
    choices: list[str] = []
    try:
        with session_scope(core.engine) as s:
            try:
                chat = invites.bind_console(s, code=code, lang=lang, now=core.clock())
            except Ambiguous as e:
                choices = [f"  {c.code}  {c.name}" for c in e.matches]
                raise
    except UserError as e:
        print("\n".join([f"console: {t(lang, e.key, **e.params)}", *choices]), file=sys.stderr)
        return 2
    except Exception as e:
        if not unavailable(e):
            raise
        print(f"console: {t(lang, 'err.busy')}", file=sys.stderr)
        return 1
    session = ConsoleSession(core, user=chat.chat_ref, chat=chat.chat_ref, lang=chat.lang, service=False)
    banner = t(chat.lang, "console.banner_customer", contact=chat.contact, code=chat.code, name=chat.name)
    return loop(core, session, chat.lang, (chat.chat_ref,), banner, out=out, inp=inp)


def loop(core: Core, session: ConsoleSession, lang: str, chats: tuple[str, ...], banner: str, *,  # noqa: ANN001
         out, inp) -> int:  # noqa: ANN001
    """Read lines, answer them, and show what the outbox has for `chats` after each one."""
    transport = ConsoleTransport(lang=lang)
    sender = Sender(core.engine, {"console": transport}, clock=core.clock, chats=chats)
    tty = inp.isatty()
    if tty:
        _setup_readline()
        print(banner, file=out)

    def flush_notifications() -> None:
        before = len(transport.sent)
        try:
            sender.drain()
        except Exception as e:
            if not unavailable(e):
                raise
            log.warning("notifications wait: the database is unavailable")  # delivered after the next line
        for d in transport.sent[before:]:
            where = t(lang, "console.from_service" if d.chat_ref == "#service" else "console.to_you")
            # its buttons get their own labels ([n1] …): the last reply's numbers keep pressing that reply's buttons
            text = session.notification(d.reply, scope=session.scope_of(d.chat_ref))
            print(f"\n📨 [{where}]\n{text}", file=out)

    flush_notifications()
    while True:
        try:
            line = input("» ") if tty else inp.readline()
        except EOFError:
            break
        except KeyboardInterrupt:
            print(file=out)
            continue
        if not tty:
            if line == "":
                break
            line = line.rstrip("\n")
            if not line.strip():
                continue
            print(f"» {line}", file=out)
        if line.strip() in ("/quit", "/exit"):
            break
        if not line.strip():  # Enter on an empty line: anything new from the others?
            flush_notifications()
            continue
        print(answer(session, line, lang), file=out)
        flush_notifications()
        out.flush()
    return 0
