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
from handlers.router import Core, failure_reply
from storage.db import unavailable

log = logging.getLogger("crm.console")
FILES_DIR = "./data/files"  # charts and exports the console saves (beside ./data/crm.db and ./data/crm.log)


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


class ConsoleError(Exception):
    """The console cannot start: `args[0]` is the one line to print, `code` the exit status."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class Terminal:
    """One console chat and its notifications: what `crm-bot console` shows after each line typed."""

    def __init__(self, core: Core, session: ConsoleSession, lang: str, chats: tuple[str, ...], banner: str) -> None:
        self.session, self.lang, self.banner = session, lang, banner
        self.transport = ConsoleTransport(lang=lang)
        self.sender = Sender(core.engine, {"console": self.transport}, clock=core.clock, chats=chats)

    def say(self, line: str) -> str:
        """The answer to one typed line (an error boundary: never a traceback)."""
        return answer(self.session, line, self.lang)

    def notifications(self) -> str:
        """What the outbox had for this chat since the last call, rendered; "" when nothing."""
        before = len(self.transport.sent)
        try:
            self.sender.drain()
        except Exception as e:
            if not unavailable(e):
                raise
            log.warning("notifications wait: the database is unavailable")  # delivered after the next line
        shown = []
        for d in self.transport.sent[before:]:
            where = t(self.lang, "console.from_service" if d.chat_ref == "#service" else "console.to_you")
            # its buttons get their own labels ([n1] …): the last reply's numbers keep pressing that reply's buttons
            text = self.session.notification(d.reply, scope=self.session.scope_of(d.chat_ref))
            shown.append(f"\n📨 [{where}]\n{text}")
        return "\n".join(shown)


def staff_terminal(core: Core, user: str) -> Terminal:
    """The console of staff member `user` (their DMs; supervisors and admins also see the service channel)."""
    try:
        me = core.actor("console", user, None)
    except Exception as e:
        if not unavailable(e):
            raise
        raise ConsoleError(t(core.settings.default_lang, "err.busy"), 1) from e
    if not me.known or me.customer:
        raise ConsoleError(f"no staff member named {user!r} (see: crm-bot staff list)", 2)
    session = ConsoleSession(core, user=user, files_dir=os.environ.get("CRM_FILES_DIR") or FILES_DIR)
    chats = (f"@{user}", "#service") if me.role in ("supervisor", "admin") else (f"@{user}",)
    return Terminal(core, session, me.lang, chats, t(me.lang, "console.banner", user=user))


def customer_terminal(core: Core, code: str) -> Terminal:
    """The console chat of a customer (CODE or a name matching one) as their primary contact."""
    lang = core.settings.default_lang
    try:
        chat = core.console_customer(code)
    except UserError as e:
        raise ConsoleError(t(lang, e.key, **e.params), 2) from e
    except Exception as e:
        if not unavailable(e):
            raise
        raise ConsoleError(t(lang, "err.busy"), 1) from e
    session = ConsoleSession(core, user=chat.chat_ref, chat=chat.chat_ref, lang=chat.lang, service=False,
                             files_dir=os.environ.get("CRM_FILES_DIR") or FILES_DIR)
    banner = t(chat.lang, "console.banner_customer", contact=chat.contact, code=chat.code, name=chat.name)
    return Terminal(core, session, chat.lang, (chat.chat_ref,), banner)


def run(core: Core, user: str, *, out=None, inp=None) -> int:  # noqa: ANN001
    """`crm-bot console --as NAME`."""
    return _run(lambda: staff_terminal(core, user), out=out or sys.stdout, inp=inp or sys.stdin)


def run_customer(core: Core, code: str, *, out=None, inp=None) -> int:  # noqa: ANN001
    """`crm-bot console --customer CODE`: chat as the customer's primary contact, in a chat bound to them."""
    return _run(lambda: customer_terminal(core, code), out=out or sys.stdout, inp=inp or sys.stdin)


def _run(open_terminal, *, out, inp) -> int:  # noqa: ANN001
    try:
        term = open_terminal()
    except ConsoleError as e:
        print(f"console: {e}", file=sys.stderr)
        return e.code
    return loop(term, out=out, inp=inp)


def loop(term: Terminal, *, out, inp) -> int:  # noqa: ANN001
    """Read lines, answer them, and show what the outbox has for the chat after each one."""
    tty = inp.isatty()
    term.session.on_progress = lambda text: print(text, file=out, flush=True)  # an import's "… 40%" as it goes
    if tty:
        _setup_readline()
        print(term.banner, file=out)

    def flush_notifications() -> None:
        shown = term.notifications()
        if shown:
            print(shown, file=out)

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
        print(term.say(line), file=out)
        flush_notifications()
        out.flush()
    return 0
