"""/staff [NAME] — who is who; /staff deactivate NAME (admin, or a manager for their team);
/staff activate NAME (admin); /staff edit NAME field=value … (admin, or a manager within their team);
/staff invite NAME: a one-time Telegram link that binds whoever opens it."""

from __future__ import annotations

from handlers.cards import staff as cards
from handlers.commands.registry import command
from handlers.context import Ctx
from handlers.errors import InvalidInput
from handlers.lookup import find_staff
from handlers.paging import page_of, split_page
from handlers.services import staff as staff_svc
from handlers.services import staff_edit, staff_invites
from handlers.views import Reply, Text
from storage.models import Staff
from storage.repos import staff as staff_repo


@command("staff", aliases=("员工",))
def cmd_staff(ctx: Ctx, args: str) -> Reply:
    head, _, rest = args.strip().partition(" ")
    if head.lower() in ("edit", "修改", "编辑"):
        return _edit(ctx, rest)
    if head.lower() in ("deactivate", "停用", "activate", "启用"):
        active = head.lower() in ("activate", "启用")
        target = find_staff(ctx, rest, active=not active)
        owned = staff_svc.set_active(ctx, target, active)
        views = [Text(ctx.t("staffcmd.activated" if active else "staffcmd.deactivated", name=target.name))]
        if not active and owned:
            views.append(Text(ctx.t("staffcmd.still_owns", name=target.name, count=owned)))
        return Reply(views=tuple(views))
    if head.lower() in ("invite", "邀请"):
        target = find_staff(ctx, rest)
        inv = staff_invites.issue(ctx, target)
        return cards.staff_invite(ctx, target, inv.token, inv.expires_at)
    text, page = split_page(args)
    if text:
        return staff_card(ctx, find_staff(ctx, text, active=ctx.role != "admin"))
    rows = staff_repo.list_all(ctx.session, active_only=ctx.role != "admin")
    return Reply(views=(page_of(ctx, rows, title=ctx.t("staffcmd.title"), page=page, cmd="/staff",
                                item=lambda st: cards.staff_item(ctx, st)),))


def _edit(ctx: Ctx, rest: str) -> Reply:
    """`NAME field=value …`: the name is every word before the first `field=value`."""
    words = rest.split()
    cut = next((i for i, w in enumerate(words) if "=" in w or "＝" in w), len(words))
    if cut == 0 or cut == len(words):
        raise InvalidInput("staffedit.usage", fields=", ".join(staff_edit.FIELDS))
    target = find_staff(ctx, " ".join(words[:cut]), active=False)
    changed = staff_edit.edit(ctx, target, " ".join(words[cut:]))
    return Reply(views=(cards.edited(ctx, target, changed),))


def staff_card(ctx: Ctx, st: Staff) -> Reply:
    may = st.active and staff_svc.may_manage(ctx, st) and st.id != ctx.staff.id
    return cards.staff_card(ctx, st, may_deactivate=may)
