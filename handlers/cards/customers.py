"""Customer views: the card, a list row, the result of an edit, approval requests and the audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handlers.cards.opportunities import opp_item
from handlers.i18n import enum_label, t
from handlers.paging import page_of
from handlers.views import Action, Button, Buttons, Fields, Header, ListItem, ListPage, Reply, Text
from storage.models import ApprovalRequest, AuditLog, Customer, FollowUp, Staff, Ticket
from storage.repos import customers as customer_repo
from storage.repos import followups as followup_repo
from storage.repos import opportunities as opp_repo
from storage.repos import staff as staff_repo
from storage.repos.tickets import list_open_for_customer as open_tickets_for_customer

if TYPE_CHECKING:
    from collections.abc import Mapping

    from handlers.context import Ctx


def owner_label(ctx: Ctx, c: Customer) -> str:
    return staff_repo.name_of(ctx.session, c.owner_id) or ctx.t("cust.pool_owner")


def _basics(ctx: Ctx, c: Customer) -> list[tuple[str, str]]:
    contacts = []
    for ct in customer_repo.contacts_of(ctx.session, c.id):
        bits = [ct.name] + [x for x in (ct.title, ct.phone, ct.email) if x]
        contacts.append(" · ".join(bits))
    grade = enum_label(ctx.lang, "grade", c.grade) + (" 🔒" if c.grade_locked else "")
    items = [(ctx.t("cust.f.industry"), enum_label(ctx.lang, "industry", c.industry)),
             (ctx.t("cust.f.type"), enum_label(ctx.lang, "customer_type", c.type)),
             (ctx.t("cust.f.grade"), grade),
             (ctx.t("cust.f.owner"), owner_label(ctx, c)),
             (ctx.t("cust.f.contacts"), "\n".join(contacts) or "—")]
    tags = customer_repo.tags_of(ctx.session, c.id)
    optional = [("tags", ", ".join(tags)), ("address", c.address), ("source", c.source), ("demand", c.demand),
                ("notes", c.notes)]
    items += [(ctx.t(f"cust.f.{k}"), v) for k, v in optional if v]
    items.append((ctx.t("cust.f.created_at"), ctx.fmt_dt(c.created_at, date_only=True)))
    if c.erased_at is not None:
        items.append((ctx.t("erase.f.erased_at"), ctx.fmt_dt(c.erased_at, date_only=True)))
    return items


def _followup_item(ctx: Ctx, f: FollowUp) -> ListItem:
    head = f"{ctx.fmt_dt(f.date, date_only=True)} · {enum_label(ctx.lang, 'method', f.method)}"
    if f.feedback:
        head += f" · {enum_label(ctx.lang, 'feedback', f.feedback)}"
    who = staff_repo.name_of(ctx.session, f.staff_id)
    return ListItem(head + (f" · {who}" if who else ""), f.content[:200])


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
        fus = followup_repo.recent(s, c.id, n=5)
        views.append(ListPage(ctx.t("cust.card.followups"), tuple(_followup_item(ctx, f) for f in fus),
                              total=len(fus), empty_text=ctx.t("cust.card.no_followups")))
        opps = opp_repo.list_for_customer(s, customer_id=c.id, open_only=True)
        views.append(ListPage(ctx.t("cust.card.opps"), tuple(opp_item(ctx, o) for o in opps), total=len(opps),
                              empty_text=ctx.t("cust.card.no_opps")))
    tks = open_tickets_for_customer(s, c.id)
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


def owner_names(ctx: Ctx, customers: list[Customer]) -> dict[int, str]:
    """{owner id: name} of the owners of `customers`, in one query (a list names every row's owner)."""
    return staff_repo.names(ctx.session, {c.owner_id for c in customers if c.owner_id is not None})


def list_item(ctx: Ctx, c: Customer, owners: dict[int, str] | None = None) -> ListItem:
    """A customer as a list row; `owners` (from `owner_names`) saves a query per row."""
    owner = owners.get(c.owner_id) if owners is not None and c.owner_id is not None else None
    detail = " · ".join([enum_label(ctx.lang, "industry", c.industry),
                         enum_label(ctx.lang, "customer_type", c.type), c.grade,
                         owner or owner_label(ctx, c)])
    return ListItem(f"{c.code} {c.name}", detail, (Button(ctx.t("cust.open"), Action(f"/customer {c.code}")),))


# ---------------------------------------------------------------- edits and approvals


def show_value(lang: str, field: str, v: Any) -> str:  # noqa: ANN401
    if v in (None, "", []):
        return "—"
    if field == "type":
        return enum_label(lang, "customer_type", v)
    if isinstance(v, dict):
        return " · ".join(str(x) for x in v.values() if x)
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    return str(v)


def changes_fields(lang: str, changes: dict[str, list]) -> Fields:
    return Fields(tuple((t(lang, f"cust.f.{f}"), f"{show_value(lang, f, old)} → {show_value(lang, f, new)}")
                        for f, (old, new) in changes.items()))


def decision_buttons(lang: str, request_id: int) -> tuple[Button, Button]:
    """Approve / Reject: the `/customer approve|reject ID` actions, signed like every button."""
    return (Button(t(lang, "appr.approve"), Action(f"/customer approve {request_id}"), "primary"),
            Button(t(lang, "appr.reject"), Action(f"/customer reject {request_id}"), "danger"))


def approval_ask(lang: str, req: ApprovalRequest, c: Customer, requester: Staff, changes: dict[str, list]) -> Reply:
    """What the approver is sent: the held changes with Approve / Reject."""
    return Reply(views=(Header(t(lang, "appr.title")),
                        Text(t(lang, "appr.ask", requester=requester.name, code=c.code, name=c.name)),
                        changes_fields(lang, changes), Buttons(decision_buttons(lang, req.id))))


def approval_told(lang: str, c: Customer, *, approved: bool, by: str, changes: dict[str, list],
                  reason: str = "") -> Reply:
    """What the requester is told once their request is decided."""
    key = "appr.told_approved" if approved else "appr.told_rejected"
    views = [Text(t(lang, key, code=c.code, name=c.name, by=by)), changes_fields(lang, changes)]
    if reason:
        views.append(Text(t(lang, "appr.reason", reason=reason)))
    return Reply(views=tuple(views))


def pending_item(ctx: Ctx, req: ApprovalRequest, c: Customer, requester: Staff | None,
                 changes: dict[str, list]) -> ListItem:
    """`ABC2026001 Deal Corp — asked by alice, 2026-11-23 10:00` · one `field: from → to` line per change."""
    lines = [f"{ctx.t(f'cust.f.{f}')}: {show_value(ctx.lang, f, old)} → {show_value(ctx.lang, f, new)}"
             for f, (old, new) in changes.items()]
    head = ctx.t("appr.list.item", code=c.code, name=c.name, requester=requester.name if requester else "—",
                 at=ctx.fmt_dt(req.created_at))
    return ListItem(text=head, detail="\n".join(lines), buttons=decision_buttons(ctx.lang, req.id))


def edit_result(ctx: Ctx, c: Customer, applied: dict[str, tuple], request: ApprovalRequest | None) -> Reply:
    """What was changed at once, what waits for whom, and the Edit / Open buttons."""
    views: list = []
    if applied:
        views.append(Text(ctx.t("cust.edit.done", code=c.code)))
        views.append(changes_fields(ctx.lang, {k: [o, n] for k, (o, n) in applied.items()}))
    if request is not None:
        approver = staff_repo.name_of(ctx.session, request.approver_id)
        views.append(Text(ctx.t("cust.edit.pending", approver=approver or "—")))
    if not views:
        views.append(Text(ctx.t("cust.edit.nothing")))
    views.append(Buttons((Button(ctx.t("cust.btn.edit"), Action(f"/customer edit {c.code}")),
                          Button(ctx.t("cust.open"), Action(f"/customer {c.code}")))))
    return Reply(views=tuple(views))


# ---------------------------------------------------------------- the audit trail

_ACTIONS = ("create", "update", "handover", "claim", "pool_return", "approve", "reject", "stage", "purchase", "merge",
            "request")
_ENTITIES = ("customer", "opportunity", "followup", "ticket", "staff")


def audit_page(ctx: Ctx, customer: Customer, rows: list[AuditLog], page: int = 1) -> Reply:
    """A customer's audit entries (newest first), paged."""
    names = staff_repo.names(ctx.session)

    def item(a: AuditLog) -> ListItem:
        who = names.get(a.actor_id) or ctx.t("audit.system")
        what = ctx.t(f"audit.action.{a.action}") if a.action in _ACTIONS else a.action
        kind = ctx.t(f"audit.entity.{a.entity}") if a.entity in _ENTITIES else a.entity
        target = f"{kind} {a.entity_code or '#' + str(a.entity_id)}"
        if a.field:
            detail = ctx.t("audit.change", field=a.field, old=a.old if a.old not in (None, "") else "—",
                           new=a.new if a.new not in (None, "") else "—")
        else:
            detail = a.new or ""
        return ListItem(f"{ctx.fmt_dt(a.at)} · {who} · {what} · {target}", detail)

    lp = page_of(ctx, rows, title=ctx.t("audit.title", code=customer.code, name=customer.name), page=page,
                 cmd=f"/customer audit {customer.code}", item=item, empty_key="audit.empty")
    return Reply(views=(lp,))


# ---------------------------------------------------------------- notices sent by the services


def pool_returned(lang: str, cs: list[Customer], *, days: int) -> Reply:
    """To an owner: these customers went back to the pool (no follow-up for `days` days)."""
    names = "\n".join(f"• {c.code} {c.name}" for c in cs[:20])
    if len(cs) > 20:
        names += "\n" + t(lang, "own.pool_more", count=len(cs) - 20)
    return Reply(views=(Text(t(lang, "own.pool_returned", count=len(cs), days=days)),
                        Text(names), Buttons((Button(t(lang, "own.pool_open"), Action("/pool")),))))


def handover_received(lang: str, *, src: str, by: str, customers: int, opps: int, fus: int) -> Reply:
    """To the new owner: what a handover gave them."""
    return Reply(views=(Text(t(lang, "own.handover_received", src=src, by=by, customers=customers, opps=opps,
                               fus=fus)),))


def erase_confirm(ctx: Ctx, customer: Customer, counts: Mapping[str, int]) -> Reply:
    """What `/customer forget CODE` would erase (`counts`: contacts, followups, … as the service counted them),
    with Erase / Cancel."""
    code = customer.code
    return Reply(views=(Header(ctx.t("erase.title", code=code, name=customer.name)),
                        Text(ctx.t("erase.confirm", code=code, **counts)),
                        Buttons((Button(ctx.t("erase.btn.erase"), Action(f"/customer forget {code} confirm"), "danger"),
                                 Button(ctx.t("erase.btn.cancel"), Action(f"/customer forget {code} cancel"))))))


def erase_done(ctx: Ctx, customer: Customer, counts: Mapping[str, int]) -> Reply:
    return Reply(views=(Text(ctx.t("erase.done", code=customer.code, **counts)),))
