"""The customer card and list rows: a view builder (no permission decisions beyond what to show)."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from handlers.context import Ctx
from handlers.i18n import enum_label
from handlers.services import followups, tickets
from handlers.services.customers import contacts_of, tags_of
from handlers.services.opportunities import amount_of
from handlers.views import Action, Button, Buttons, Fields, Header, ListItem, ListPage, Reply
from storage.models import Customer, FollowUp, Opportunity, Staff, Ticket

OPEN_STAGES = ("initial", "needs", "proposal", "negotiation")


def staff_name(session: Session, staff_id: int | None) -> str | None:
    if staff_id is None:
        return None
    st = session.get(Staff, staff_id)
    return st.name if st else None


def open_opportunities(session: Session, customer_id: int) -> list[Opportunity]:
    return list(session.scalars(select(Opportunity).where(
        Opportunity.customer_id == customer_id, Opportunity.stage.in_(OPEN_STAGES)).order_by(Opportunity.id)))


def owner_label(ctx: Ctx, c: Customer) -> str:
    return staff_name(ctx.session, c.owner_id) or ctx.t("cust.pool_owner")


def _basics(ctx: Ctx, c: Customer) -> list[tuple[str, str]]:
    contacts = []
    for ct in contacts_of(ctx.session, c.id):
        bits = [ct.name] + [x for x in (ct.title, ct.phone, ct.email) if x]
        contacts.append(" · ".join(bits))
    grade = enum_label(ctx.lang, "grade", c.grade) + (" 🔒" if c.grade_locked else "")
    items = [(ctx.t("cust.f.industry"), enum_label(ctx.lang, "industry", c.industry)),
             (ctx.t("cust.f.type"), enum_label(ctx.lang, "customer_type", c.type)),
             (ctx.t("cust.f.grade"), grade),
             (ctx.t("cust.f.owner"), owner_label(ctx, c)),
             (ctx.t("cust.f.contacts"), "\n".join(contacts) or "—")]
    tags = tags_of(ctx.session, c.id)
    optional = [("tags", ", ".join(tags)), ("address", c.address), ("source", c.source), ("demand", c.demand),
                ("notes", c.notes)]
    items += [(ctx.t(f"cust.f.{k}"), v) for k, v in optional if v]
    items.append((ctx.t("cust.f.created_at"), ctx.fmt_dt(c.created_at, date_only=True)))
    return items


def _followup_item(ctx: Ctx, f: FollowUp) -> ListItem:
    head = f"{ctx.fmt_dt(f.date, date_only=True)} · {enum_label(ctx.lang, 'method', f.method)}"
    if f.feedback:
        head += f" · {enum_label(ctx.lang, 'feedback', f.feedback)}"
    who = staff_name(ctx.session, f.staff_id)
    return ListItem(head + (f" · {who}" if who else ""), f.content[:200])


def opp_item(ctx: Ctx, o: Opportunity) -> ListItem:
    value = amount_of(o)  # a won one shows what was signed
    amount = f"¥{value:,.0f}" if value is not None else "—"
    close = o.expected_close_date.isoformat() if o.expected_close_date else "—"
    return ListItem(f"{o.code} {o.name}",
                    f"{enum_label(ctx.lang, 'stage', o.stage)} · {amount} · {ctx.t('opp.f.close')}: {close}",
                    (Button(ctx.t("opp.open"), Action(f"/opp {o.code}")),))


def _ticket_item(ctx: Ctx, tk: Ticket) -> ListItem:
    return ListItem(f"{tk.code} · {enum_label(ctx.lang, 'ticket_type', tk.type)} · "
                    f"{enum_label(ctx.lang, 'priority', tk.priority)} · {enum_label(ctx.lang, 'status', tk.status)}",
                    tk.description[:120])


def customer_card(ctx: Ctx, c: Customer) -> Reply:
    sales = ctx.role in ("rep", "manager", "admin")
    s = ctx.session
    items = _basics(ctx, c)
    views: list = [Header(f"{c.name} · {c.code}")]
    if sales:
        items += [(ctx.t("cust.f.last_followup"), ctx.fmt_dt(c.last_followup_at)),
                  (ctx.t("cust.f.next_followup"), ctx.fmt_dt(c.next_followup_at))]
    views.append(Fields(tuple(items)))
    if sales:
        fus = followups.recent_followups(s, c.id, n=5)
        views.append(ListPage(ctx.t("cust.card.followups"), tuple(_followup_item(ctx, f) for f in fus),
                              total=len(fus), empty_text=ctx.t("cust.card.no_followups")))
        opps = open_opportunities(s, c.id)
        views.append(ListPage(ctx.t("cust.card.opps"), tuple(opp_item(ctx, o) for o in opps), total=len(opps),
                              empty_text=ctx.t("cust.card.no_opps")))
    tks = tickets.open_tickets_for_customer(s, c.id)
    if tks or not sales:
        views.append(ListPage(ctx.t("cust.card.tickets"), tuple(_ticket_item(ctx, tk) for tk in tks),
                              total=len(tks), empty_text=ctx.t("cust.card.no_tickets")))
    if sales:
        buttons = [Button(ctx.t("cust.btn.log"), Action(f"/log {c.code}"), "primary"),
                   Button(ctx.t("cust.btn.opp"), Action(f"/opp add {c.code}")),
                   Button(ctx.t("cust.btn.edit"), Action(f"/customer edit {c.code}"))]
        if ctx.role in ("manager", "admin"):
            buttons.append(Button(ctx.t("cust.btn.audit"), Action(f"/customer audit {c.code}")))
        views.append(Buttons(tuple(buttons)))
    return Reply(views=tuple(views))


def list_item(ctx: Ctx, c: Customer) -> ListItem:
    detail = " · ".join([enum_label(ctx.lang, "industry", c.industry),
                         enum_label(ctx.lang, "customer_type", c.type), c.grade, owner_label(ctx, c)])
    return ListItem(f"{c.code} {c.name}", detail, (Button(ctx.t("cust.open"), Action(f"/customer {c.code}")),))
