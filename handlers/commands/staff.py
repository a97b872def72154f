"""/staff [NAME] — who is who; /staff deactivate NAME (admin, or a manager for their team);
/staff activate NAME (admin)."""

from __future__ import annotations

from sqlalchemy import func, select

from handlers.commands import command
from handlers.context import Ctx
from handlers.i18n import enum_label
from handlers.lookup import find_staff
from handlers.paging import page_of, split_page
from handlers.services import staff as staff_svc
from handlers.views import Action, Button, Buttons, Fields, Header, ListItem, Reply, Text
from storage.models import Customer, Staff


@command("staff", aliases=("员工",))
def cmd_staff(ctx: Ctx, args: str) -> Reply:
    head, _, rest = args.strip().partition(" ")
    if head.lower() in ("deactivate", "停用", "activate", "启用"):
        active = head.lower() in ("activate", "启用")
        target = find_staff(ctx, rest, active=not active)
        owned = staff_svc.set_active(ctx, target, active)
        views = [Text(ctx.t("staffcmd.activated" if active else "staffcmd.deactivated", name=target.name))]
        if not active and owned:
            views.append(Text(ctx.t("staffcmd.still_owns", name=target.name, count=owned)))
        return Reply(views=tuple(views))
    text, page = split_page(args)
    if text:
        return staff_card(ctx, find_staff(ctx, text, active=ctx.role != "admin"))
    q = select(Staff).order_by(Staff.active.desc(), Staff.role, Staff.name)
    if ctx.role != "admin":
        q = q.where(Staff.active.is_(True))
    rows = list(ctx.session.scalars(q))

    def item(st: Staff) -> ListItem:
        bits = [enum_label(ctx.lang, "role", st.role), st.team or "—"]
        if not st.active:
            bits.append(ctx.t("staffcmd.inactive"))
        return ListItem(st.name, " · ".join(bits))

    return Reply(views=(page_of(ctx, rows, title=ctx.t("staffcmd.title"), page=page, cmd="/staff", item=item),))


def staff_card(ctx: Ctx, st: Staff) -> Reply:
    manager = ctx.session.get(Staff, st.manager_id) if st.manager_id else None
    items = [(ctx.t("staffcmd.f.role"), enum_label(ctx.lang, "role", st.role)),
             (ctx.t("staffcmd.f.team"), st.team or "—"),
             (ctx.t("staffcmd.f.manager"), manager.name if manager else "—")]
    if ctx.role == "admin":
        owned = ctx.session.scalar(select(func.count()).select_from(Customer).where(Customer.owner_id == st.id))
        items += [(ctx.t("staffcmd.f.tz"), st.tz), (ctx.t("staffcmd.f.lang"), enum_label(ctx.lang, "lang", st.lang)),
                  (ctx.t("staffcmd.f.notify"), enum_label(ctx.lang, "platform", st.notify)),
                  (ctx.t("staffcmd.f.slack"), st.slack_id or "—"),
                  (ctx.t("staffcmd.f.telegram"), str(st.telegram_id) if st.telegram_id else "—"),
                  (ctx.t("staffcmd.f.active"), ctx.t("staffcmd.yes") if st.active else ctx.t("staffcmd.no")),
                  (ctx.t("staffcmd.f.customers"), str(owned))]
    views: list = [Header(st.name), Fields(tuple(items))]
    if st.active and staff_svc.may_manage(ctx, st) and st.id != ctx.staff.id:
        views.append(Buttons((Button(ctx.t("staffcmd.btn.deactivate"), Action(f"/staff deactivate {st.name}"),
                                     "danger"),)))
    return Reply(views=tuple(views))
