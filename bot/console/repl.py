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
from handlers.i18n import t
from handlers.router import Core, failure_reply
from storage.db import unavailable

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
    session.on_progress = lambda text: print(text, file=out, flush=True)  # an import's "… 40%" as it goes
    lang, is_supervisor = me.lang, me.role in ("supervisor", "admin")
    transport = ConsoleTransport(lang=lang)
    chats = (f"@{user}", "#service") if is_supervisor else (f"@{user}",)
    sender = Sender(core.engine, {"console": transport}, clock=core.clock, chats=chats)
    tty = inp.isatty()
    if tty:
        _setup_readline()
        print(t(lang, "console.banner", user=user), file=out)

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
            text = session.notification(d.reply, scope="c:#service" if d.chat_ref == "#service" else f"u:@{user}")
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
        if not line.strip():
            continue
        print(answer(session, line, lang), file=out)
        flush_notifications()
        out.flush()
    return 0
