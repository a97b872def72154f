"""What a handler gets: the unit of work, the actor, the clock, the settings and the translator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.i18n import t as _t
from handlers.settings import DomainSettings
from handlers.views import Reply
from storage.models import ChatBinding, Staff


@dataclass(frozen=True)
class Attachment:
    """A file the user sent with a message (a spreadsheet to import), as every adapter hands it over.

    `path` is a private local copy the adapter downloaded (it deletes it after the core answered; the core
    keeps its own copy if it needs one); empty when the adapter did not fetch it (larger than `size` allows, or
    the platform refused), so that the core can say why in the user's language.
    """

    name: str
    size: int
    path: str = ""


@dataclass(frozen=True)
class Inbound:
    """One message, button press or form submission, as every adapter translates it.

    `chat_ref`/`user_ref` are the platform's ids as strings. Exactly one of `text`, `token` and `form` is
    set: typed text (a command or a dialog answer), a button token, or a whole dialog's values by field.
    `update_key` identifies the delivery for de-duplication (Telegram update_id, Slack event_id, a Slack
    request's trigger_id), if any: the core stores it with the effect and answers a repeat `Reply(repeat=True)`.
    `scopes` are the token scopes this inbound may carry (see handlers.actions); adapters fill them.
    `attachment`: a file sent with the message (`text` is then its caption, possibly empty).
    """

    platform: str
    user_ref: str
    chat_ref: str
    text: str | None = None
    token: str | None = None
    form: dict[str, str] | None = None
    dialog: str | None = None
    surface: str = "chat"  # chat | form (the adapter shows dialogs as forms)
    lang_hint: str | None = None
    display_name: str | None = None
    is_group: bool = False
    update_key: str | None = None
    scopes: tuple[str, ...] = ()
    attachment: Attachment | None = None


# shows a progress message of a long action (an import) in place of the pressed button's message
Progress = Callable[[Reply], None]


@dataclass
class Ctx:
    session: Session
    now: datetime
    settings: DomainSettings
    platform: str
    chat_ref: str
    user_ref: str
    lang: str
    staff: Staff | None = None
    binding: ChatBinding | None = None
    via_button: bool = False
    surface: str = "chat"
    is_group: bool = False
    scope: str = ""
    text: str = ""  # the command text being dispatched (typed, or decoded from a button), stripped
    channels: dict[str, str] = field(default_factory=dict)  # platform → the service channel's chat id
    bot_names: dict[str, str] = field(default_factory=dict)  # platform → the bot's user name (invite links)
    attachment: Attachment | None = None  # the file sent with this message
    progress: Progress | None = None  # where a long action shows how far it got (adapters pass it)

    def t(self, key: str, /, **params: object) -> str:
        return _t(self.lang, key, **params)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.staff.tz if self.staff and self.staff.tz else self.settings.default_tz)

    def local(self, dt: datetime | None) -> datetime | None:
        return dt.astimezone(self.tz) if dt else None

    def fmt_dt(self, dt: datetime | None, *, date_only: bool = False) -> str:
        """A timestamp in the viewer's zone: `2026-12-05 14:30` (or the date)."""
        if dt is None:
            return "—"
        d = dt.astimezone(self.tz)
        return d.strftime("%Y-%m-%d") if date_only else d.strftime("%Y-%m-%d %H:%M")

    @property
    def is_customer(self) -> bool:
        return self.binding is not None and self.staff is None

    @property
    def role(self) -> str | None:
        return self.staff.role if self.staff else None
