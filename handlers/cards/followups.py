"""Follow-up views: the confirmation after logging (with the cadence proposal), rows of the due list and of
a customer's history."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from handlers.i18n import enum_label
from handlers.views import Action, Button, Buttons, Fields, Header, ListItem, Reply, Text
from storage.models import Customer, FollowUp
from storage.repos import staff as staff_repo

if TYPE_CHECKING:
    from handlers.context import Ctx


def fmt_when(ctx: Ctx, dt: datetime | None) -> str:
    if dt is None:
        return "—"
    return f"{ctx.fmt_dt(dt)} ({ctx.t(f'fu.wd.{ctx.local(dt).weekday()}')})"


def snippet(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def details(ctx: Ctx, fu: FollowUp, customer: Customer) -> Fields:
    """What was logged: customer, method, feedback, content, and when/by/result/next where they apply."""
    items = [(ctx.t("fu.f.customer"), f"{customer.code} {customer.name}"),
             (ctx.t("fu.f.method"), enum_label(ctx.lang, "method", fu.method)),
             (ctx.t("fu.f.feedback"), enum_label(ctx.lang, "feedback", fu.feedback)),
             (ctx.t("fu.f.content"), fu.content)]
    if fu.date != fu.created_at:  # `date:` — a call made earlier
        items.append((ctx.t("fu.f.date"), fmt_when(ctx, fu.date)))
    if fu.staff_id != ctx.staff.id:  # `by:` — logged for someone else
        items.append((ctx.t("fu.f.staff"), staff_repo.name_of(ctx.session, fu.staff_id) or "?"))
    if fu.result:
        items.append((ctx.t("fu.f.result"), enum_label(ctx.lang, "result", fu.result)))
    items.append((ctx.t("fu.f.next"), fmt_when(ctx, fu.next_followup_at) if fu.next_followup_at
                  else ctx.t("fu.none")))
    return Fields(tuple(items))


def _actions(ctx: Ctx, fu: FollowUp) -> Buttons:
    return Buttons((Button(ctx.t("fu.btn.undo"), Action(f"/log undo {fu.id}"), style="danger"),
                    Button(ctx.t("fu.btn.edit"), Action(f"/log edit {fu.id}"))))


def proposal(ctx: Ctx, fu: FollowUp, customer: Customer, at: datetime) -> list:
    """The grade's cadence proposes the next follow-up `at`: accept, change or none."""
    day = ctx.local(at).strftime("%Y-%m-%d")
    return [Text(ctx.t("fu.propose", when=fmt_when(ctx, at), grade=customer.grade,
                       days=ctx.settings.cadence_days(customer.grade))),
            Buttons((Button(ctx.t("fu.btn.accept"), Action(f"/log next {fu.id} {day}"), style="primary"),
                     Button(ctx.t("fu.btn.change"), Action(f"/log next {fu.id}")),
                     Button(ctx.t("fu.btn.no_next"), Action(f"/log next {fu.id} none"))))]


def confirmation(ctx: Ctx, fu: FollowUp, customer: Customer, *, proposed: datetime) -> Reply:
    """After logging: what was saved, Undo / Edit, the cadence proposal when no next follow-up was given
    (`proposed`), and the upgrade hint after a positive contact with a potential customer."""
    views: list = [Header(ctx.t("fu.logged")), details(ctx, fu, customer), _actions(ctx, fu)]
    if fu.next_followup_at is None:
        views += proposal(ctx, fu, customer, proposed)
    if fu.feedback == "positive" and customer.type == "potential":
        views += [Text(ctx.t("fu.upgrade_hint")),
                  Buttons((Button(ctx.t("fu.btn.upgrade"), Action(f"/customer edit {customer.code} type=intent"),
                                  style="primary"),))]
    return Reply(views=tuple(views))


def edit_view(ctx: Ctx, fu: FollowUp, customer: Customer) -> Reply:
    """`/log edit ID`: the follow-up as logged, how to change it, and "Change next follow-up"."""
    return Reply(views=(Header(ctx.t("fu.edit_title", id=fu.id)), details(ctx, fu, customer),
                        Text(ctx.t("fu.edit_hint", id=fu.id), muted=True),
                        Buttons((Button(ctx.t("fu.btn.change_next"), Action(f"/log next {fu.id}")),))))


def edited(ctx: Ctx, fu: FollowUp, customer: Customer, changed: list[str]) -> Reply:
    names = ", ".join(ctx.t(f"fu.f.{name}") for name in changed)
    head = Text(ctx.t("fu.edited", fields=names) if changed else ctx.t("fu.edit_nothing"))
    return Reply(views=(head, details(ctx, fu, customer), _actions(ctx, fu)))


def next_set(ctx: Ctx, customer: Customer, at: datetime | None, *, changed: bool = True) -> Reply:
    """The next follow-up was scheduled (or cleared: `at` None)."""
    if at is None:
        return Reply(views=(Text(ctx.t("fu.no_next_set", code=customer.code)),))
    key = "fu.next_set" if changed else "fu.next_already"
    return Reply(views=(Text(ctx.t(key, code=customer.code, when=fmt_when(ctx, at))),))


def due_item(ctx: Ctx, fu: FollowUp, c: Customer, today_end: datetime, owner: str | None = None) -> ListItem:
    """A row of `/followups`: when it is due, the customer, what was said, Done / Snooze / Log."""
    due = fu.next_followup_at
    tag = "fu.tag.overdue" if due < ctx.now else "fu.tag.today" if due < today_end else "fu.tag.upcoming"
    text = f"{ctx.t(tag)} {fmt_when(ctx, due)} · {c.code} {c.name}" + (f" · {owner}" if owner else "")
    detail = f"{enum_label(ctx.lang, 'method', fu.method)}: {snippet(fu.content)}"
    return ListItem(text=text, detail=detail, buttons=(
        Button(ctx.t("fu.btn.done"), Action(f"/followups done {fu.id}"), style="primary"),
        Button(ctx.t("fu.btn.snooze_1d"), Action(f"/followups snooze {fu.id} 1d")),
        Button(ctx.t("fu.btn.snooze_3d"), Action(f"/followups snooze {fu.id} 3d")),
        Button(ctx.t("fu.btn.snooze_1w"), Action(f"/followups snooze {fu.id} 1w")),
        Button(ctx.t("fu.btn.log"), Action(f"/log {c.code}"))))


def history_item(ctx: Ctx, f: FollowUp, names: dict[int, str]) -> ListItem:
    """A row of `/history`: when, how, feedback, who; what was said, the result and the next follow-up."""
    head = (f"{ctx.fmt_dt(f.date)} · {enum_label(ctx.lang, 'method', f.method)}"
            + (f" · {enum_label(ctx.lang, 'feedback', f.feedback)}" if f.feedback else "")
            + f" · {names.get(f.staff_id, '?')}")
    detail = snippet(f.content, 200)
    if f.result:
        detail += f" [{enum_label(ctx.lang, 'result', f.result)}]"
    if f.next_followup_at:
        detail += " → " + ctx.t("fu.f.next") + " " + ctx.fmt_dt(f.next_followup_at)
    return ListItem(text=head, detail=detail)
