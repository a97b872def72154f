"""The router: one inbound message → one unit of work → one `Reply`.

It resolves the actor (a staff member by platform id, or a customer's bound chat), then continues an active
dialog, decodes a button token, or runs `/verb args` from the verb table. A command that only reads (its verb
says so, `@command(reads=…)`) runs in a read unit of work, outside SQLite's writer queue (storage/db.py); should
it write after all and SQLite refuse (its reads went stale), the whole unit runs again as a write unit. `UserError`s become a translated
`Error`; anything else is logged with a short reference and the user sees only "Something went wrong (ref …)".
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import secrets
import string
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlmodel import Session

from handlers import actions, actors, commands, inputs, notify, observe, paging
from handlers.context import Ctx, Inbound, Progress
from handlers.dialogs import engine as dialogs
from handlers.errors import UserError
from handlers.i18n import norm_lang, t
from handlers.lookup import Ambiguous, pick_reply
from handlers.services import invites, staff_links
from handlers.settings import DomainSettings
from handlers.views import Error, Reply, Text
from storage.db import insert_ignore, retry_as_write, session_scope, unavailable, unit_of, utcnow
from storage.models import ProcessedUpdate, Setting
from storage.repos import chats
from storage.repos.settings import with_stored_channels

log = logging.getLogger("crm.router")

PlainTextHook = Callable[[Ctx, str], Reply | None]


def error_ref() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(5))


def failure_reply(lang: str | None, exc: BaseException) -> Reply:
    """What the user reads when something failed that is not their mistake; the core and every adapter's error
    boundary answer with it. The database being unreachable or busy: "try again shortly". Anything else: logged
    with its traceback under a short reference, and only the reference is shown."""
    if unavailable(exc):
        log.warning("the database is unavailable: %s", type(exc.__cause__ or exc).__name__)
        return Reply(views=(Error(t(lang, "err.busy")),))
    ref = error_ref()
    log.error("unhandled error, ref %s", ref, exc_info=exc)
    return Reply(views=(Error(t(lang, "err.internal", ref=ref)),))


class Core:
    """The platform-neutral bot: adapters call `handle(inbound)` and render what it returns.

    `channels` maps platform → the supervisor channel's chat id there. `on_outbox` callbacks run after a
    unit of work that wrote outbox rows (the sender wakes up at once: seconds, not the next tick). `observers`
    get a `handlers.observe.UnitDone` after every unit of work (metrics and log lines, in bot/).
    """

    def __init__(self, engine: Engine, settings: DomainSettings | None = None, *,
                 channels: dict[str, str] | None = None, secret: bytes | None = None,
                 clock: Callable[[], datetime] = utcnow, bot_names: dict[str, str] | None = None) -> None:
        commands.load_all()
        self.engine = engine
        self.settings = settings or DomainSettings()
        self.channels = dict(channels or {}) or {"console": "#service"}
        self.clock = clock
        self.bot_names = dict(bot_names or {})
        self.on_outbox: list[Callable[[], None]] = []
        self.observers: list[observe.Observer] = []
        self.plain_text_hooks: list[PlainTextHook] = list(commands.PLAIN_TEXT_HOOKS)
        self._secret = secret

    # ------------------------------------------------------------ secret for button tokens
    @property
    def secret(self) -> bytes:
        if self._secret is None:
            with session_scope(self.engine) as s:
                self._secret = load_or_create_secret(s, now=self.clock())
        return self._secret

    # ------------------------------------------------------------ what an adapter keeps for later
    def keep(self, kind: str, payload: str) -> str:
        """Store `payload` (e.g. the blocks behind Slack's "more" button) in the database, where it outlives a
        restart; the key is unguessable (a random part lives in the row's scope)."""
        secret = secrets.token_urlsafe(12)
        with session_scope(self.engine) as s:
            ref_id = notify.keep(s, scope=f"{kind}:{secret}", payload=payload, now=self.clock())
        return f"{ref_id}.{secret}"

    def kept(self, kind: str, key: str) -> str | None:
        """What `keep(kind, …)` stored under `key`, unless it expired (or the key is not one of ours)."""
        ref_id, _, secret = key.partition(".")
        if not secret:
            return None
        with session_scope(self.engine, write=False) as s:
            return notify.resolve_ref(s, f"#{ref_id}", scopes=(f"{kind}:{secret}",), now=self.clock())

    def outbox_written(self) -> None:
        for cb in list(self.on_outbox):
            try:
                cb()
            except Exception:  # noqa: BLE001 - a wake-up must never break the reply
                log.exception("outbox wake-up failed")

    # ------------------------------------------------------------ entry point
    def handle(self, inbound: Inbound, *, progress: Progress | None = None) -> Reply:
        """The reply to `inbound`. `progress`, if given, shows how far a long action got (an import) while it
        runs: the adapter edits the message whose button was pressed with each `Reply` it gets."""
        if progress is None:
            return self._unit(inbound, self._dispatch)

        def with_progress(ctx: Ctx, inb: Inbound) -> Reply:
            ctx.progress = progress
            return self._dispatch(ctx, inb)

        return self._unit(inbound, with_progress)

    def start_dialog(self, inbound: Inbound, name: str, prefill: dict[str, str]) -> Reply:
        """Begin dialog `name` with values the adapter already has (a message shortcut's text), in a unit of work
        of its own, like `handle`; values are cleaned like typed text and cut to what their step allows."""
        steps = {st.name: st for st in dialogs.DIALOGS[name].steps}
        values = {k: inputs.clean(v)[: steps[k].max_length] for k, v in prefill.items() if k in steps}
        return self._unit(inbound, lambda ctx, _inbound: dialogs.start(ctx, name, values), verb="dialog")

    def actor(self, platform: str, user_ref: str, chat_ref: str | None) -> actors.Actor:
        """Who `user_ref` is, writing in `chat_ref`: for adapters, which must not read the database themselves.
        A read: it never waits for a writer."""
        with session_scope(self.engine, write=False) as s:
            return actors.describe(s, platform, user_ref, chat_ref, default_lang=self.settings.default_lang)

    def awaiting_slack(self) -> bool:
        """True while some staff record waits to be matched to a Slack user by its email."""
        with session_scope(self.engine) as s:
            return bool(staff_links.awaiting(s))

    def link_slack_by_email(self, user_ref: str, email: str) -> tuple[str, str, str] | None:
        """Link the staff record with `email` (no Slack id yet) to the Slack user `user_ref`, who wrote and whose
        profile says `email`: (name, role, language) of the linked record, or None."""
        with session_scope(self.engine) as s:
            staff = staff_links.link_by_email(s, slack_id=user_ref, email=email, now=self.clock())
            return (staff.name, staff.role, staff.lang) if staff is not None else None

    def service_channel(self, platform: str) -> str | None:
        """The platform's service channel now: the one `/setup service` stored, else the configured default."""
        with session_scope(self.engine) as s:
            return with_stored_channels(s, self.channels).get(platform)

    def console_customer(self, code: str) -> invites.ConsoleChat:
        """Bind the console chat of the customer `code` (or name) to their primary contact (`crm-bot console
        --customer`); raises a `UserError` that says why not."""
        with session_scope(self.engine) as s:
            return invites.bind_console(s, code=code, lang=self.settings.default_lang, now=self.clock())

    def telegram_staff(self) -> list[tuple[int, str, str, bool]]:
        """(telegram id, language, role, active) of the staff with a Telegram account: their command menus."""
        with session_scope(self.engine, write=False) as s:
            return chats.telegram_accounts(s)

    def _unit(self, inbound: Inbound, work: Callable[[Ctx, Inbound], Reply], *, verb: str | None = None) -> Reply:
        """One unit of work for `inbound` (cleaned first; `work` gets it so): de-duplicated, with the error
        boundary; lists labelled, actions bound to tokens. A read-only command runs as a read unit first. The
        observers hear of it once it is over."""
        started = time.perf_counter()
        seen = _Seen(verb)
        try:
            r = self._unit_work(cleaned(inbound), work, seen)
        except dialogs.FormErrors:
            seen.outcome = "user_error"
            raise
        finally:
            if self.observers:
                observe.notify(self.observers, observe.UnitDone(
                    platform=inbound.platform, verb=seen.verb or _verb_of(seen.text, inbound), outcome=seen.outcome,
                    duration=time.perf_counter() - started, staff_id=seen.staff_id, dialog=inbound.dialog,
                    request_id=observe.request_id.get() or observe.new_request_id()))
        return r

    def _unit_work(self, inbound: Inbound, work: Callable[[Ctx, Inbound], Reply], seen: _Seen) -> Reply:
        now = self.clock()
        said = {"lang": inbound.lang_hint}  # even an unexpected error answers in the user's language
        try:
            if inbound.token is not None:
                _ = self.secret  # load it before the unit of work: never open a second transaction inside one
            write = not self.reads_only(inbound)
            try:
                r, wrote = self._attempt(inbound, work, now, said, seen, write=write)
            except sa_exc.OperationalError as e:
                if write or not retry_as_write(e):
                    raise
                # SQLite refused a read unit's first write (another commit since its reads): nothing was written;
                # the whole unit once more, holding the writer queue from its start
                seen.outcome = "ok"
                r, wrote = self._attempt(inbound, work, now, said, seen, write=True)
        except dialogs.FormErrors:
            raise
        except Exception as e:  # noqa: BLE001 - the user never sees exception text
            seen.outcome = "busy" if unavailable(e) else "error"
            return failure_reply(said["lang"], e)
        if wrote:
            self.outbox_written()
        return r

    def _attempt(self, inbound: Inbound, work: Callable[[Ctx, Inbound], Reply], now: datetime, said: dict,
                 seen: _Seen, *, write: bool) -> tuple[Reply, bool]:
        """(reply, wrote outbox rows). A read unit records the delivery only when it wrote after all (a read
        answered twice does nothing twice)."""
        with session_scope(self.engine, write=write) as session:
            if write and inbound.update_key and not first_delivery(session, inbound.platform, inbound.update_key, now):
                seen.outcome, seen.text = "repeat", (inbound.text or "").strip()
                return Reply(repeat=True), False
            ctx = self.context(session, inbound, now)
            said["lang"] = ctx.lang
            seen.staff_id = ctx.staff.id if ctx.staff else None
            try:
                r = work(ctx, inbound)
            except Ambiguous as e:
                session.rollback()
                return _pick(ctx, e), False
            except UserError as e:
                session.rollback()
                seen.outcome = "user_error"
                return Reply(views=(Error(ctx.t(e.key, **e.params)),)), False
            finally:
                seen.text = ctx.text
            r = notify.bind_actions(session, paging.labelled(r, ctx.lang), scope=ctx.scope, now=now)
            if not write and unit_of(session).wrote and inbound.update_key \
                    and not first_delivery(session, inbound.platform, inbound.update_key, now):
                session.rollback()
                seen.outcome = "repeat"
                return Reply(repeat=True), False
            return r, bool(session.info.pop("outbox_added", False))

    def reads_only(self, inbound: Inbound) -> bool:
        """Is `inbound` a command that only reads (`@command(reads=…)`)? Forms, buttons, dialog answers and
        plain text may write: they run as write units."""
        if inbound.form is not None or inbound.token is not None:
            return False
        text = (inbound.text or "").strip()
        if not text or inputs.key(text[:1]) != "/":
            return False
        verb, _, args = text[1:].partition(" ")
        cmd = commands.lookup(verb.split("@", 1)[0])
        return cmd is not None and cmd.reads_only(args.strip())

    def context(self, session: Session, inbound: Inbound, now: datetime) -> Ctx:
        staff, binding = actors.resolve(session, inbound.platform, inbound.user_ref, inbound.chat_ref)
        if staff:
            lang = staff.lang
        elif binding:
            lang = binding.lang
        else:
            lang = norm_lang(inbound.lang_hint or self.settings.default_lang)
        scope = inbound.scopes[0] if inbound.scopes else f"c:{inbound.chat_ref}"
        return Ctx(session=session, now=now, settings=self.settings, platform=inbound.platform,
                   chat_ref=inbound.chat_ref, user_ref=inbound.user_ref, lang=lang, staff=staff,
                   binding=binding, surface=inbound.surface, is_group=inbound.is_group,
                   scope=scope, channels=with_stored_channels(session, self.channels), bot_names=dict(self.bot_names))

    def _dispatch(self, ctx: Ctx, inbound: Inbound) -> Reply:
        if inbound.form is not None:
            return dialogs.submit(ctx, inbound.dialog or "", inbound.form)
        if inbound.attachment is not None:
            return self._file(ctx, inbound)
        text = inbound.text
        if inbound.token is not None:
            text = self._decode(ctx, inbound)
            ctx.via_button = True
        text = (text or "").strip()
        if inputs.key(text[:1]) == "/":
            text = "/" + text[1:]  # a full-width ／ typed with a Chinese keyboard
        ctx.text = text
        if len(text) > ctx.settings.max_text * 3:
            return Reply(views=(Error(ctx.t("err.too_long", max=ctx.settings.max_text)),))
        state = dialogs.active(ctx)
        if text.startswith("/"):
            verb, _, args = text[1:].partition(" ")
            verb = verb.split("@", 1)[0]  # Telegram: /log@crm_bot
            if state is not None and verb.lower() not in ("cancel", "取消"):
                dialogs.clear(ctx)
            return self.run_command(ctx, verb, args.strip())
        if state is not None:
            return dialogs.advance(ctx, state, text)
        for hook in self.plain_text_hooks:
            r = hook(ctx, text)
            if r is not None:
                return r
        if ctx.is_group and not ctx.via_button:
            return Reply()  # chatter in a group (or a reply to someone else's question) is not for the bot
        if ctx.staff is None and ctx.binding is None:
            return Reply(views=(Text(ctx.t("auth.stranger")),))
        if not text:
            return Reply()
        return Reply(views=(Text(ctx.t("router.not_a_command")),))

    def _file(self, ctx: Ctx, inbound: Inbound) -> Reply:
        """A file sent to the bot is a spreadsheet to import (its caption may name an owner); only staff send
        files that the bot reads."""
        ctx.attachment = inbound.attachment
        ctx.text = (inbound.text or "").strip()
        if ctx.staff is None:
            return Reply(views=(Text(ctx.t("auth.stranger" if ctx.binding is None else "import.chat.text_only")),))
        return self.run_command(ctx, "import", ctx.text)

    def _decode(self, ctx: Ctx, inbound: Inbound) -> str:
        scopes = tuple(inbound.scopes) or (f"c:{inbound.chat_ref}",)
        try:
            cmd = actions.decode(inbound.token or "", scopes=scopes, secret=self.secret, now=ctx.now)
        except actions.ExpiredToken:
            raise UserError("button.expired") from None
        except actions.BadToken:
            log.warning("forged or foreign button token from %s/%s", inbound.platform, inbound.user_ref)
            raise UserError("button.invalid") from None
        if cmd.startswith("#"):
            stored = notify.resolve_ref(ctx.session, cmd, scopes=scopes, now=ctx.now)
            if stored is None:
                raise UserError("button.expired")
            cmd = stored
        return cmd

    def run_command(self, ctx: Ctx, verb: str, args: str) -> Reply:
        cmd = commands.lookup(verb)
        if cmd is None or not commands.may_use(ctx, cmd):
            return unknown_verb(ctx, verb)
        if ctx.staff is not None and cmd.roles is not None and ctx.staff.role not in cmd.roles:
            raise UserError("err.forbidden_role", verb=cmd.verb)
        return cmd.func(ctx, args)


@dataclasses.dataclass
class _Seen:
    """What a unit of work learnt about itself, for the observers."""

    verb: str | None
    outcome: str = "ok"
    staff_id: int | None = None
    text: str = ""


def _verb_of(text: str, inbound: Inbound) -> str:
    """The canonical verb of the command a unit ran (typed or behind a button); a bounded label otherwise."""
    if inbound.form is not None:
        return "form"
    if text.startswith("/"):
        cmd = commands.lookup(text[1:].partition(" ")[0].split("@", 1)[0])
        return cmd.verb if cmd is not None else "unknown"
    return "button" if inbound.token is not None else "text"


def cleaned(inbound: Inbound) -> Inbound:
    """The inbound with every text the user controls passed through `inputs.clean` (NUL, zero-width, bidi
    controls, lone surrogates): nothing unstorable or invisible goes further into the core."""
    form = {k: inputs.clean(v) if isinstance(v, str) else v for k, v in inbound.form.items()} \
        if inbound.form is not None else None
    return dataclasses.replace(inbound, text=inputs.clean(inbound.text) if inbound.text else inbound.text,
                               form=form, display_name=inputs.clean(inbound.display_name or "") or None)


def _pick(ctx: Ctx, e: Ambiguous) -> Reply:
    """Several customers matched: offer each, re-running the same command with that customer's code."""
    text = ctx.text
    q = str(e.params.get("query", ""))
    if not text.startswith("/") or not q or q not in text:
        return Reply(views=(Error(ctx.t(e.key, **e.params)),))
    r = pick_reply(ctx, e.matches, lambda c: text.replace(q, c.code, 1))
    return notify.bind_actions(ctx.session, paging.labelled(r, ctx.lang), scope=ctx.scope, now=ctx.now)


def unknown_verb(ctx: Ctx, verb: str) -> Reply:
    if ctx.staff is None and ctx.binding is None:  # a button pressed by a stranger (in a group): an alert
        return Reply(views=((Error if ctx.via_button else Text)(ctx.t("auth.stranger")),))
    names = [c.verb for c in commands.visible_commands(ctx)]
    close = difflib.get_close_matches(verb.lower(), names, n=3, cutoff=0.5)
    if not close:
        close = [n for n in names if n.startswith(verb[:2].lower())][:3] if verb else []
    if close:
        msg = ctx.t("router.unknown_suggest", verb=verb, suggestions=", ".join("/" + c for c in close))
    else:
        msg = ctx.t("router.unknown", verb=verb)
    return Reply(views=(Error(msg),))


def first_delivery(session: Session, platform: str, key: str, now: datetime) -> bool:
    """Record that the inbound `key` (a platform's update id, a Slack request) is handled, in the unit of work of
    its effect: False when it was handled before (the caller does nothing again)."""
    return insert_ignore(session, ProcessedUpdate, conflict=["platform", "key"], platform=platform, key=key[:120],
                         at=now)


def load_or_create_secret(session: Session, *, now: datetime) -> bytes:
    row = session.get(Setting, "action_secret")
    if row is None:
        insert_ignore(session, Setting, conflict=["key"], key="action_secret", value=secrets.token_hex(32),
                      updated_at=now)
        row = session.get(Setting, "action_secret")
    return bytes.fromhex(row.value)
