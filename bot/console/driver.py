"""Drive the core as a console user: the REPL uses this, and so do transcript and end-to-end tests.

`ConsoleSession(core, user="alice").send("/help")` returns what the terminal would show; `press(n)` presses the
n-th numbered choice of the last reply (typing a number does the same). Notifications queued in the outbox for
the console platform are delivered by `ConsoleTransport`; `notification(reply, scope=...)` shows one with its
own labels (`[n1]`, `[n2]`, … never reused in a session), so a notification printed after a reply leaves the
reply's numbers alone and its buttons keep working after later commands (typing `n1` presses one).
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.console.render import Rendered, render
from handlers import actions, inputs
from handlers.context import Inbound
from handlers.i18n import norm_lang
from handlers.router import Core
from handlers.views import Action, Reply
from storage.files import FILE_MODE, private_dir


@dataclass
class Delivered:
    chat_ref: str
    reply: Reply
    text: str
    message_ref: str
    edit_of: str | None = None


@dataclass
class ConsoleTransport:
    """The console's `Transport`: keeps what was sent so the REPL can print it and tests can read it."""

    platform: str = "console"
    sent: list[Delivered] = field(default_factory=list)
    lang: str = "en"

    def send(self, chat_ref: str, reply: Reply, *, scope: str) -> str:
        ref = f"m{len(self.sent) + 1}"
        self.sent.append(Delivered(chat_ref, reply, render(reply, self.lang).text, ref))
        return ref

    def edit(self, chat_ref: str, message_ref: str, reply: Reply, *, scope: str) -> None:
        self.sent.append(Delivered(chat_ref, reply, render(reply, self.lang).text, message_ref, message_ref))


class ConsoleSession:
    def __init__(self, core: Core, *, user: str, chat: str | None = None, lang: str | None = None,
                 files_dir: str | Path | None = None, service: bool = True) -> None:
        self.core = core
        self.files_dir = files_dir  # where a reply's file (a chart, an export) is saved; None: left where it is
        self.user = user
        self.chat = chat or f"@{user}"
        self.lang = lang
        self.service = service  # staff see the service channel's posts; a customer's chat does not
        self.last: Rendered = Rendered()
        self.last_reply: Reply = Reply()
        self.last_scope: str = f"c:{self.chat}"
        self.notes: dict[str, tuple[Action, str]] = {}  # "n3" → a notification's button and its scope
        self.progress: list[str] = []  # progress lines of long actions (an import), as shown
        self.on_progress: Callable[[str], None] | None = None  # the REPL prints them as they come

    def _progress(self, reply: Reply) -> None:
        text = render(reply, norm_lang(self.lang)).text
        self.progress.append(text)
        if self.on_progress is not None:
            self.on_progress(text)

    @property
    def scopes(self) -> tuple[str, ...]:
        own = (f"c:{self.chat}", f"u:@{self.user}")
        return (*own, "c:#service") if self.service else own

    def scope_of(self, chat_ref: str) -> str:
        """The token scope of a message delivered to `chat_ref` (a DM, the service channel, a customer chat)."""
        return "c:#service" if chat_ref == "#service" else f"u:@{self.user}" if chat_ref == f"@{self.user}" \
            else f"c:{chat_ref}"

    def _inbound(self, **kw: object) -> Inbound:
        return Inbound(platform="console", user_ref=self.user, chat_ref=self.chat, lang_hint=self.lang,
                       scopes=self.scopes, **kw)  # type: ignore[arg-type]

    def keep_file(self, reply: Reply) -> Reply:
        """Save the reply's file (a chart's PNG, an export) in the data folder: the path printed is that copy."""
        if reply.file is None or self.files_dir is None:
            return reply
        dest = private_dir(self.files_dir) / Path(reply.file.name).name
        shutil.copyfile(reply.file.path, dest)
        dest.chmod(FILE_MODE)
        shown = str(dest) if dest.is_absolute() else f"./{dest}"  # as configured: ./data/files/… under the demo
        return dataclasses.replace(reply, file=dataclasses.replace(reply.file, path=shown))

    def _show(self, reply: Reply, scope: str | None = None) -> str:
        reply = self.keep_file(reply)
        self.last_reply = reply
        self.last_scope = scope or self.scopes[0]
        self.last = render(reply, norm_lang(self.lang))
        return self.last.text

    def send(self, text: str) -> str:
        """Type a line. A bare number presses that choice of the last reply; `n3` a notification's choice.
        While the last reply waits for free text, everything typed is that text."""
        s = text.strip()
        if not self.last_reply.expects_text:
            n = inputs.parse_id(s, hi=len(self.last.actions))  # '²'.isdigit() is true, but it is no choice
            if n is not None:
                return self.press(n)
            if s.lower() in self.notes:
                return self.press_note(s.lower())
        return self._show(self.core.handle(self._inbound(text=text), progress=self._progress))

    def press(self, n: int) -> str:
        return self._press(self.last.actions[n - 1], self.last_scope)

    def press_note(self, label: str) -> str:
        """Press a notification's choice by its label (`n3`), however many replies came since."""
        return self._press(*self.notes[label])

    def _press(self, action: Action, scope: str) -> str:
        token = actions.encode(action.cmd, scope=scope, secret=self.core.secret, now=self.core.clock())
        return self._show(self.core.handle(self._inbound(token=token), progress=self._progress))

    def notification(self, reply: Reply, *, scope: str) -> str:
        """Render a delivered notification with its own labels; the last reply's numbers stay as they were."""
        shown = render(self.keep_file(reply), norm_lang(self.lang), prefix="n", start=len(self.notes))
        for i, action in enumerate(shown.actions, 1):
            self.notes[shown.label(i)] = (action, scope)
        return shown.text

    def view(self, reply: Reply, *, scope: str) -> str:
        """Look at a delivered message as if it were the last reply (its buttons become the numbered choices)."""
        return self._show(reply, scope)

    def press_token(self, token: str) -> str:
        return self._show(self.core.handle(self._inbound(token=token)))

    def choices(self) -> list[str]:
        return [a.cmd for a in self.last.actions]

    def press_cmd(self, prefix: str) -> str:
        """Press the first choice whose command starts with `prefix` (tests read better than numbers)."""
        for i, a in enumerate(self.last.actions, 1):
            if a.cmd.startswith(prefix):
                return self.press(i)
        raise AssertionError(f"no choice starting {prefix!r} in {self.choices()}")
