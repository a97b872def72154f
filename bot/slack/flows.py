"""What happens after the ack: run the core, then show its reply on the right Slack surface.

Slash commands answer through the response_url (ephemeral unless the reply is public); a reply carrying a
`Form` opens a modal with the trigger_id at once. Button presses update their message in place when the reply
says `replace`; presses inside a modal update that modal; presses in the App Home open a modal.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.slack import answers, files, render, surfaces
from bot.slack import inbound as inb
from bot.slack.limits import unescape
from handlers import commands
from handlers.actors import Actor
from handlers.context import Inbound
from handlers.dialogs import engine as dialogs
from handlers.i18n import enum_label, t
from handlers.services import import_chat
from handlers.views import Error, Reply, Text

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

log = logging.getLogger("crm.slack")

# App Home sections: (command, staff roles that see it; None = everyone the command itself allows)
SERVICE = ("agent", "supervisor", "admin")
HOME_COMMANDS = (("/followups", None), ("/opp list mine stage:open", None), ("/tickets mine", SERVICE),
                 ("/tickets open", ("rep", "manager")),  # their customers' tickets
                 ("/tickets unassigned", ("supervisor", "admin")), ("/tickets breaching", ("supervisor", "admin")))
SHORTCUT_DIALOG = "log_call"
TEXT_SUBTYPES = (None, "file_share", "thread_broadcast")  # a screenshot with a caption is still a message
CODE = re.compile(r"\b[A-Z]{2,6}20\d{5}\b")
MISS_TTL = 60.0  # seconds before an unknown user's Slack email is looked up again
MENTION = re.compile(r"^\s*<@[A-Z0-9]+(\|[^>]*)?>[:,]?")
EPHEMERAL_PROGRESS = 3  # progress posts through a response_url (5 uses in all: the answer needs one)


class Flows:
    def __init__(self, bot: SlackBot) -> None:
        self.bot = bot
        self.core = bot.core
        self.misses: dict[str, float] = {}  # unknown users whose email matched no staff record: when

    # ------------------------------------------------------------ core
    def who(self, user: str, channel: str | None) -> Actor:
        return self.core.actor(inb.PLATFORM, user, channel)

    def link_by_email(self, user: str) -> tuple[str, str, str] | None:
        """A Slack user the bot does not know: when a staff record waits for the email of their Slack profile
        (`users.info`, scope users:read.email), link it. (name, role, language) of that record, or None; a user
        who matched nothing is not looked up again for `MISS_TTL` seconds."""
        now = time.monotonic()
        if not user or now - self.misses.get(user, -MISS_TTL) < MISS_TTL or not self.core.awaiting_slack():
            return None
        try:
            profile = self.bot.client.users_info(user=user).get("user") or {}
        except SlackApiError as e:
            log.warning("users.info for %s failed: %s", user, e.response.get("error"))
            profile = {}
        email = (profile.get("profile") or {}).get("email")
        linked = None
        if email and not profile.get("is_bot") and not profile.get("deleted"):
            linked = self.core.link_slack_by_email(user, email)
        elif profile and not email:
            log.info("Slack user %s has no email in users.info: is the users:read.email scope granted?", user)
        if linked is None:
            if len(self.misses) > 5000:
                self.misses.clear()
            self.misses[user] = now
        return linked

    def welcome(self, user: str, channel: str | None) -> tuple[Actor, Text | None]:
        """Who `user` is, linking them by email first if the bot does not know them; the welcome to show."""
        p = self.who(user, channel)
        if p.known:
            return p, None
        linked = self.link_by_email(user)
        if linked is None:
            return p, None
        name, role, lang = linked
        return self.who(user, channel), Text(t(lang, "slack.linked_by_email", name=name,
                                                role=enum_label(lang, "role", role)))

    def handle(self, inbound: Inbound, *, tell_repeat: bool = True,
               progress: Callable[[Reply, str], None] | None = None) -> tuple[Reply, str]:
        """The core's reply and the asker's language; strangers get a short "ask an admin" answer (unless their
        Slack email matches a staff record: then they are linked and welcomed). A request handled before (a
        replayed or retried request) did nothing again: `tell_repeat` says so. `progress` shows how far a long
        action (an import) got, in the asker's language (it runs inside the core's unit of work: it must not
        open another)."""
        p, hello = self.welcome(inbound.user_ref, inbound.chat_ref)
        if not p.known and not inb.open_to_strangers(inbound):
            return Reply(views=(Text(t(p.lang, "slack.unknown_user", user=inbound.user_ref)),)), p.lang
        shown = (lambda r: progress(r, p.lang)) if progress else None
        reply = self.core.handle(dataclasses.replace(inbound, lang_hint=p.lang), progress=shown)
        if hello is not None:
            reply = dataclasses.replace(reply, views=(hello, *reply.views))
        if reply.repeat:
            return (Reply(views=(Text(t(p.lang, "router.already_done")),)) if tell_repeat else reply), p.lang
        if not p.known:  # e.g. /start just bound this channel to a customer: their language now
            p = self.who(inbound.user_ref, inbound.chat_ref)
        return reply, p.lang

    def message(self, reply: Reply, scope: str, lang: str) -> dict:
        return render.message(reply, sign=self.bot.signer(scope), lang=lang, stash=self.bot.stash.put)

    def open_form(self, trigger_id: str, reply: Reply, channel: str, lang: str, *, push: bool = False) -> None:
        view = surfaces.form_modal(reply.form, channel=channel, lang=lang)
        if push:
            self.bot.client.views_push(trigger_id=trigger_id, view=view)
        else:
            self.bot.client.views_open(trigger_id=trigger_id, view=view)

    def reply_modal(self, reply: Reply, scope: str, lang: str, channel: str) -> dict:
        return surfaces.reply_modal(reply, sign=self.bot.signer(scope), lang=lang, channel=channel,
                                    stash=self.bot.stash.put)

    # ------------------------------------------------------------ slash commands
    def on_command(self, body: dict, respond, headers: Mapping) -> None:  # noqa: ANN001
        inbound = inb.from_command(body, inb.request_key("cmd", body, headers))
        reply, lang = self.handle(inbound)
        if reply.form is not None:
            self.open_form(body["trigger_id"], reply, inbound.chat_ref, lang)
        if reply.file is not None and not reply.public and not inbound.chat_ref.startswith("D"):
            reply = reply + Reply(views=(Text(t(lang, "slack.file_in_dm"), muted=True),))  # see upload()
        if reply.views:
            msg = self.message(reply, inbound.scopes[0], lang)
            kind = "in_channel" if reply.public else "ephemeral"
            answers.send(self.core, lambda: respond(response_type=kind, **msg), reply, inbound, public=reply.public)
        self.upload(reply, inbound.chat_ref, inbound.user_ref)

    def upload(self, reply: Reply, channel: str, user: str = "") -> None:
        """Attach the reply's file. A private reply's file (an export) goes to the user's DM, never into the
        channel where the command was typed; a public one goes to the channel (the DM when the bot may not)."""
        if reply.file is None:
            return
        private = bool(user) and not reply.public and not channel.startswith("D")
        try:
            self.bot.transport.upload(self.dm_of(user) if private else channel, reply)
            return
        except SlackApiError as e:
            log.warning("file upload for %s failed: %s", channel, e.response.get("error"))
            if private or not user or channel.startswith("D"):
                return
        try:
            self.bot.transport.upload(self.dm_of(user), reply)
        except SlackApiError as e2:
            log.warning("file upload to the DM of %s failed: %s", user, e2.response.get("error"))

    def dm_of(self, user: str) -> str:
        return self.bot.client.conversations_open(users=user)["channel"]["id"]

    # ------------------------------------------------------------ buttons and selects
    def on_action(self, body: dict, action: dict, respond, headers: Mapping) -> None:  # noqa: ANN001
        inbound = inb.from_action(body, action, inb.request_key("act", body, headers))
        if self.bot.clicks.repeated(body, action):
            return
        reply, lang = self.handle(inbound, progress=self.progress_to(body, respond, inbound))
        container = body.get("container") or {}
        scope = inbound.scopes[0]
        view = body.get("view") or {}
        in_modal = container.get("type") == "view" and view.get("type") == "modal"
        if reply.form is not None:
            self.open_form(body["trigger_id"], reply, inbound.chat_ref, lang, push=in_modal)
        if not reply.views:
            self.upload(reply, inbound.chat_ref, inbound.user_ref)
            return
        if container.get("type") == "view":
            self.in_view(body, reply, scope, lang, inbound, in_modal=in_modal)
            return
        msg = self.message(reply, scope, lang)
        replace = reply.replace or str(action.get("action_id", "")).startswith(render.NAV_PREFIX)
        channel = container.get("channel_id")
        if replace and not container.get("is_ephemeral") and container.get("message_ts"):
            answers.send(self.core, lambda: self.bot.client.chat_update(channel=channel, ts=container["message_ts"],
                                                                        **msg), reply, inbound, public=True,
                         channel=channel)
        elif replace:
            answers.send(self.core, lambda: respond(replace_original=True, **msg), reply, inbound, public=False)
        else:
            kind = "in_channel" if reply.public else "ephemeral"
            answers.send(self.core, lambda: respond(response_type=kind, replace_original=False, **msg), reply,
                         inbound, public=reply.public)
        self.upload(reply, inbound.chat_ref, inbound.user_ref)

    def progress_to(self, body: dict, respond, inbound: Inbound) -> Callable[[Reply, str], None]:  # noqa: ANN001
        """Show a long action's progress (an import) in the message whose button was pressed: chat.update, or
        for an ephemeral message its response_url (which takes 5 posts: a few progress lines, then the end)."""
        container = body.get("container") or {}
        channel, ts = container.get("channel_id"), container.get("message_ts")
        posts = {"left": EPHEMERAL_PROGRESS}

        def show(reply: Reply, lang: str) -> None:
            msg = self.message(reply, inbound.scopes[0], lang)
            try:
                if container.get("type") == "message" and not container.get("is_ephemeral") and channel and ts:
                    self.bot.client.chat_update(channel=channel, ts=ts, **msg)
                elif posts["left"] > 0 and body.get("response_url"):
                    posts["left"] -= 1
                    respond(replace_original=True, **msg)
            except SlackApiError as e:  # a progress line lost is no reason to stop the import
                log.warning("progress update failed: %s", e.response.get("error"))

        return show

    def in_view(self, body: dict, reply: Reply, scope: str, lang: str, inbound: Inbound, *, in_modal: bool) -> None:
        """A press inside a modal updates it; in the App Home, a state change (e.g. Done) refreshes the Home,
        anything else opens a modal."""
        view = body.get("view") or {}
        client = self.bot.client
        if not in_modal and reply.replace and view.get("type") == "home":
            home = {"user": inbound.user_ref, "tab": "home"}
            answers.send(self.core, lambda: self.on_home(home), reply, inbound, public=False)
            return
        modal = self.reply_modal(reply, scope, lang, inbound.chat_ref if inbound.chat_ref != inbound.user_ref else "")
        if in_modal:
            answers.send(self.core, lambda: client.views_update(view_id=view["id"], view=modal), reply, inbound,
                         public=False)
        elif reply.form is None:  # the Home: a trigger_id opens one modal only, and the form came first
            answers.send(self.core, lambda: client.views_open(trigger_id=body["trigger_id"], view=modal), reply,
                         inbound, public=False)

    def on_more(self, body: dict, action: dict) -> None:
        user = (body.get("user") or {}).get("id", "")
        lang = self.who(user, inb.channel_of(body)).lang
        blocks = self.bot.stash.get(action.get("value", ""))
        if blocks is None:
            blocks = render.blocks_of(Reply(views=(Error(t(lang, "slack.more_gone")),)), sign=str, lang=lang)
        modal = surfaces.blocks_modal(blocks, lang=lang, channel=inb.channel_of(body) or "", stash=self.bot.stash.put)
        view = body.get("view") or {}
        if (body.get("container") or {}).get("type") == "view" and view.get("type") == "modal":
            self.bot.client.views_update(view_id=view["id"], view=modal)
        else:
            self.bot.client.views_open(trigger_id=body["trigger_id"], view=modal)

    # ------------------------------------------------------------ modal submissions
    def on_submit(self, body: dict) -> dict:
        """The ack for a view_submission: field errors inline, the next form, the result, or close."""
        inbound = inb.from_submission(body)
        try:
            reply, lang = self.handle(inbound)
        except dialogs.FormErrors as e:
            return {"response_action": "errors", "errors": {k: v[:1000] for k, v in e.errors.items()}}
        if reply.form is not None:
            return {"response_action": "update",
                    "view": surfaces.form_modal(reply.form, channel=inbound.chat_ref, lang=lang)}
        if reply.public and reply.views and not inbound.chat_ref.startswith(("U", "D")):
            msg = self.message(reply, inbound.scopes[0], lang)  # the modal shows the result; the channel, later
            answers.send(self.core, lambda: self.bot.client.chat_postMessage(channel=inbound.chat_ref, **msg), reply,
                         inbound, public=True)
        if not reply.views:
            return {}
        return {"response_action": "update", "view": self.reply_modal(reply, inbound.scopes[0], lang,
                                                                      inbound.chat_ref)}

    # ------------------------------------------------------------ the message shortcut
    def on_shortcut(self, body: dict, headers: Mapping) -> None:
        user = (body.get("user") or {}).get("id", "")
        channel = (body.get("channel") or {}).get("id") or user
        p = self.who(user, channel)
        if not p.known or SHORTCUT_DIALOG not in dialogs.DIALOGS:
            key = "slack.unknown_user" if not p.known else "slack.shortcut_unavailable"
            reply = Reply(views=(Text(t(p.lang, key, user=user)),))
            self.bot.client.views_open(trigger_id=body["trigger_id"],
                                       view=self.reply_modal(reply, f"u:{user}", p.lang, ""))
            return
        text = unescape((body.get("message") or {}).get("text") or "")
        prefill = {"content": text}
        m = CODE.search(text)
        code = m.group(0) if m else p.chat_customer  # a customer's shared channel
        if code:
            prefill["customer"] = code
        inbound = Inbound(platform=inb.PLATFORM, user_ref=user, chat_ref=channel, surface="form", lang_hint=p.lang,
                          scopes=inb.scopes(channel, user), update_key=inb.request_key("sc", body, headers))
        reply = self.core.start_dialog(inbound, SHORTCUT_DIALOG, prefill)
        if reply.repeat:
            reply = Reply(views=(Text(t(p.lang, "router.already_done")),))
        if reply.form is not None:
            self.open_form(body["trigger_id"], reply, channel, p.lang)
        elif reply.views:
            self.bot.client.views_open(trigger_id=body["trigger_id"],
                                       view=self.reply_modal(reply, f"u:{user}", p.lang, ""))

    # ------------------------------------------------------------ App Home
    def on_home(self, event: dict) -> None:
        if event.get("tab", "home") != "home":
            return
        user = event.get("user", "")
        p, hello = self.welcome(user, None)
        sections = [Reply(views=(hello,))] if hello is not None else []
        if not p.known:
            sections.append(Reply(views=(Text(t(p.lang, "slack.unknown_user", user=user)),)))
        else:
            cmds = [c for c, roles in HOME_COMMANDS if roles is None or p.role in roles]
            sections += [r for r in (self.home_section(user, c) for c in cmds) if r is not None]
            if len(sections) == (hello is not None):
                sections.append(self.core.handle(inb.home_inbound(user, "/help")))
        self.bot.client.views_publish(user_id=user, view=self.home_view(sections, user, p.lang))

    def home_view(self, sections: list[Reply], user: str, lang: str) -> dict:
        return surfaces.home_view(sections, sign=self.bot.signer(f"u:{user}"), lang=lang, stash=self.bot.stash.put)

    def home_section(self, user: str, cmd: str) -> Reply | None:
        if commands.lookup(cmd[1:].split(" ", 1)[0]) is None:
            return None  # that feature is not installed
        r = self.core.handle(inb.home_inbound(user, cmd))
        if r.form is not None or not r.views or any(isinstance(v, Error) for v in r.views):
            return None
        return r

    # ------------------------------------------------------------ direct messages (dialogs step by step)
    def on_message(self, event: dict, event_id: str | None) -> None:
        """DMs with the bot, and what a customer writes in their bound channel (staff chatter there is left
        alone; messages that start by mentioning the bot arrive as app_mention instead)."""
        if event.get("bot_id") or event.get("subtype") not in TEXT_SUBTYPES:
            return
        if event.get("files") and event.get("channel_type") == "im" and self.on_file(event, event_id):
            return
        if not (event.get("text") or "").strip():
            return
        if event.get("channel_type") == "im" or self.from_customer_channel(event):
            self.answer(inb.from_message(event, event_id))

    def from_customer_channel(self, event: dict) -> bool:
        if event.get("channel_type") not in ("channel", "group") or MENTION.match(event.get("text") or ""):
            return False
        return self.who(event.get("user", ""), event.get("channel")).customer

    def on_mention(self, event: dict, event_id: str | None) -> None:
        """`@crm-bot /ticket new …` or a dialog answer in a channel (e.g. a customer's shared channel)."""
        if event.get("bot_id"):
            return
        text = MENTION.sub("", event.get("text") or "", count=1).strip()
        event = dict(event, text=text, channel_type="channel")
        if event.get("files") and self.on_file(event, event_id, ephemeral=True):
            return
        self.answer(inb.from_message(event, event_id), ephemeral=True)

    # ------------------------------------------------------------ files (a spreadsheet for /import)
    def on_file(self, event: dict, event_id: str | None, *, ephemeral: bool = False) -> bool:
        """A file a staff member shared with the bot (its DM, or a channel message that mentions it): fetched
        into a private temporary folder, deleted once the core answered (it keeps its own copy for the Import
        button). False for anyone else's: their message is handled as text, the file is not fetched."""
        who = self.who(event.get("user", ""), event.get("channel"))
        if who.role is None:
            return False
        limit = self.core.settings.import_max_mb * files.MB
        with tempfile.TemporaryDirectory(prefix="crm-upload-") as tmp:
            got = files.fetch(self.bot.client, str(event["files"][0].get("id", "")), Path(tmp), limit=limit,
                              wanted=lambda name, size: import_chat.fetch_for(who.role, name, size, limit // files.MB))
            self.answer(inb.from_file(event, event_id, got.name, got.size, got.path), ephemeral=ephemeral,
                        progress=not ephemeral)
        return True

    def answer(self, inbound: Inbound, *, ephemeral: bool = False, progress: bool = False) -> None:
        """Answer a message in its channel (ephemeral: to its sender only). With `progress`, a long check (an
        import's) posts its progress as a message that the answer then replaces."""
        placeholder: dict = {}
        reply, lang = self.handle(inbound, tell_repeat=False,  # an event Slack delivered again
                                  progress=self.placeholder(inbound, placeholder) if progress else None)
        if reply.views:
            msg = self.message(reply, inbound.scopes[0], lang)
            client = self.bot.client
            if placeholder.get("ts"):
                answers.send(self.core, lambda: client.chat_update(channel=placeholder["channel"],
                                                                   ts=placeholder["ts"], **msg),
                             reply, inbound, public=True)
            elif ephemeral and not reply.public:
                answers.send(self.core, lambda: client.chat_postEphemeral(channel=inbound.chat_ref,
                                                                          user=inbound.user_ref, **msg),
                             reply, inbound, public=False)
            else:
                answers.send(self.core, lambda: client.chat_postMessage(channel=inbound.chat_ref, **msg), reply,
                             inbound, public=True)
        self.upload(reply, inbound.chat_ref, inbound.user_ref)

    def placeholder(self, inbound: Inbound, where: dict) -> Callable[[Reply, str], None]:
        """Progress before there is a message to edit: the first line is posted, the next ones update it."""

        def show(reply: Reply, lang: str) -> None:
            msg = self.message(reply, inbound.scopes[0], lang)
            try:
                if where.get("ts"):
                    self.bot.client.chat_update(channel=where["channel"], ts=where["ts"], **msg)
                else:
                    r = self.bot.client.chat_postMessage(channel=inbound.chat_ref, **msg)
                    where.update(channel=r.get("channel") or inbound.chat_ref, ts=r.get("ts"))
            except SlackApiError as e:  # a progress line lost is no reason to stop the check
                log.warning("progress message failed: %s", e.response.get("error"))

        return show
