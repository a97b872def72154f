"""Staff views: the `/staff` list row and a staff member's card."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from handlers.i18n import enum_label
from handlers.views import Action, Button, Buttons, Fields, Header, ListItem, Reply, Text
from storage.models import Staff
from storage.repos import staff as staff_repo

if TYPE_CHECKING:
    from handlers.context import Ctx


def staff_item(ctx: Ctx, st: Staff) -> ListItem:
    bits = [enum_label(ctx.lang, "role", st.role), st.team or "—"]
    if not st.active:
        bits.append(ctx.t("staffcmd.inactive"))
    return ListItem(st.name, " · ".join(bits))


def staff_card(ctx: Ctx, st: Staff, *, may_deactivate: bool) -> Reply:
    """Role, team, manager; for admins also zone, language, channels and owned customers. `may_deactivate`:
    offer "Deactivate"."""
    items = [(ctx.t("staffcmd.f.role"), enum_label(ctx.lang, "role", st.role)),
             (ctx.t("staffcmd.f.team"), st.team or "—"),
             (ctx.t("staffcmd.f.manager"), staff_repo.name_of(ctx.session, st.manager_id) or "—")]
    if ctx.role == "admin":
        owned = staff_repo.owned_customers(ctx.session, st.id)
        items += [(ctx.t("staffcmd.f.tz"), st.tz), (ctx.t("staffcmd.f.lang"), enum_label(ctx.lang, "lang", st.lang)),
                  (ctx.t("staffcmd.f.notify"), enum_label(ctx.lang, "platform", st.notify)),
                  (ctx.t("staffcmd.f.slack"), st.slack_id or "—"),
                  (ctx.t("staffcmd.f.telegram"), str(st.telegram_id) if st.telegram_id else "—"),
                  (ctx.t("staffcmd.f.email"), st.email or "—"), (ctx.t("staffedit.f.reminder"), st.reminder_time),
                  (ctx.t("staffcmd.f.active"), ctx.t("staffcmd.yes") if st.active else ctx.t("staffcmd.no")),
                  (ctx.t("staffcmd.f.customers"), str(owned))]
    views: list = [Header(st.name), Fields(tuple(items))]
    if may_deactivate:
        views.append(Buttons((Button(ctx.t("staffcmd.btn.deactivate"), Action(f"/staff deactivate {st.name}"),
                                     "danger"),)))
    return Reply(views=tuple(views))


def staff_invite(ctx: Ctx, st: Staff, token: str, expires_at: datetime) -> Reply:
    """A new staff invite: the Telegram deep link (when the bot's name is known) and the `/start` line."""
    bot = ctx.bot_names.get("telegram")
    link = ctx.t("staffinv.link", url=f"https://t.me/{bot}?start={token}") if bot else ctx.t("inv.no_bot_name")
    return Reply(views=(Header(ctx.t("staffinv.title", name=st.name)), Text(link),
                        Text(ctx.t("staffinv.start_line", line=f"/start {token}")),
                        Text(ctx.t("inv.expires", at=ctx.fmt_dt(expires_at)), muted=True)))


def staff_redeemed(ctx: Ctx, outcome: str, st: Staff | None) -> Reply:
    """`/start TOKEN` of a staff invite: welcome, or why not."""
    if outcome != "bound" or st is None:
        return Reply(views=(Text(ctx.t(f"staffinv.{outcome}")),))
    return Reply(views=(Text(ctx.t("staffinv.welcome", name=st.name, role=enum_label(ctx.lang, "role", st.role))),))


def edited(ctx: Ctx, st: Staff, changed: list[str]) -> Text:
    """What `/staff edit` or `/me` saved (field names as typed in commands)."""
    if not changed:
        return Text(ctx.t("staffedit.unchanged", name=st.name))
    return Text(ctx.t("staffedit.done", name=st.name, fields=", ".join(changed)))


def my_settings(ctx: Ctx, st: Staff) -> Reply:
    """`/me`: the caller's own zone, language, notification platform and morning reminder."""
    items = ((ctx.t("staffcmd.f.tz"), st.tz), (ctx.t("staffcmd.f.lang"), enum_label(ctx.lang, "lang", st.lang)),
             (ctx.t("staffcmd.f.notify"), enum_label(ctx.lang, "platform", st.notify)),
             (ctx.t("staffedit.f.reminder"), st.reminder_time),
             (ctx.t("staffcmd.f.role"), enum_label(ctx.lang, "role", st.role)),
             (ctx.t("staffcmd.f.team"), st.team or "—"))
    return Reply(views=(Header(ctx.t("staffedit.me.title")), Fields(items), Text(ctx.t("staffedit.me.hint"))))
