"""Guided dialogs for tickets: staff open one (customer, contact, type, priority, description), a bound
customer opens one (type, urgency, description), and the short text prompts behind the Add note / Reply /
Resolve / Reopen buttons (ticket code prefilled, then the text)."""

from __future__ import annotations

from sqlalchemy import select

from handlers.context import Ctx
from handlers.dialogs.engine import Dialog, Step, register
from handlers.errors import InvalidInput
from handlers.i18n import enum_choices, enum_label, parse_enum
from handlers.lookup import resolve_customer
from handlers.views import Reply, Text
from storage.models import Contact, Customer


def _customer(ctx: Ctx, text: str, values: dict) -> str:
    """Stored as the customer's code, so a prefilled form field shows something a person can read."""
    return resolve_customer(ctx, text).code


def customer_of(ctx: Ctx, values: dict) -> Customer | None:
    code = values.get("customer")
    return ctx.session.scalar(select(Customer).where(Customer.code == code)) if code else None


def _contacts(ctx: Ctx, values: dict) -> list[Contact]:
    c = customer_of(ctx, values)
    if c is None:
        return []
    return list(ctx.session.scalars(select(Contact).where(Contact.customer_id == c.id).order_by(Contact.id)))


def _contact_choices(ctx: Ctx, values: dict) -> list[tuple[str, str]]:
    return [(c.name + (f" ({c.title})" if c.title else ""), str(c.id)) for c in _contacts(ctx, values)]


def _contact(ctx: Ctx, text: str, values: dict) -> int:
    cs = _contacts(ctx, values)
    t = text.strip()
    hits = [c for c in cs if str(c.id) == t or c.name.lower() == t.lower()] or \
        [c for c in cs if t.lower() in c.name.lower()]
    if len(hits) != 1:
        raise InvalidInput("tk.dlg.bad_contact", choices="、".join(c.name for c in cs) or "—")
    return hits[0].id


def _enum(kind: str):  # noqa: ANN202
    return lambda ctx, text, values: parse_enum(kind, text, lang=ctx.lang)


def _type_choices(ctx: Ctx, values: dict) -> list[tuple[str, str]]:
    return enum_choices(ctx.lang, "ticket_type")


def _prio_choices(ctx: Ctx, values: dict) -> list[tuple[str, str]]:
    return enum_choices(ctx.lang, "priority")


def _urgency_choices(ctx: Ctx, values: dict) -> list[tuple[str, str]]:
    return [(ctx.t(f"tk.dlg.urgency.{p}"), p) for p in ("high", "medium", "low")]


def _staff_done(ctx: Ctx, values: dict) -> Reply:
    from handlers.commands.tickets import created_reply
    from handlers.services import tickets

    t = tickets.create_ticket(ctx, customer=customer_of(ctx, values), type_=values["type"], priority=values["priority"],
                              description=values["description"], contact_id=values.get("contact"))
    return created_reply(ctx, t)


def _customer_done(ctx: Ctx, values: dict) -> Reply:
    from handlers.services import tickets

    customer = ctx.session.get(Customer, ctx.binding.customer_id) if ctx.binding else None
    if customer is None:
        return Reply(views=(Text(ctx.t("auth.stranger")),))
    t = tickets.create_ticket(ctx, customer=customer, type_=values["type"], priority=values["priority"],
                              description=values["description"])
    return Reply(views=(Text(ctx.t("tk.cust_created", code=t.code,
                                   type=enum_label(ctx.lang, "ticket_type", t.type))),))


def _unset(name: str):  # noqa: ANN202
    """Ask this step only when a one-line command or the first message did not fill it in already."""
    return lambda ctx, values: name not in values


STAFF = register(Dialog(
    name="ticket_new", title_key="tk.dlg.title", on_done=_staff_done, steps=(
        Step("customer", "tk.dlg.customer", parse=_customer),
        Step("contact", "tk.dlg.contact", parse=_contact, choices=_contact_choices, optional=True,
             when=lambda ctx, v: "contact" not in v and (bool(_contacts(ctx, v)) or ctx.surface == "form")),
        Step("type", "tk.dlg.type", parse=_enum("ticket_type"), choices=_type_choices, when=_unset("type")),
        Step("priority", "tk.dlg.priority", parse=_enum("priority"), choices=_prio_choices,
             when=_unset("priority")),
        Step("description", "tk.dlg.description", multiline=True, hint_key="tk.dlg.description_hint",
             when=_unset("description")),
    )))

CUSTOMER = register(Dialog(
    name="ticket_customer", title_key="tk.dlg.cust_title", on_done=_customer_done, steps=(
        Step("type", "tk.dlg.cust_type", parse=_enum("ticket_type"), choices=_type_choices, when=_unset("type")),
        Step("priority", "tk.dlg.urgency", parse=_enum("priority"), choices=_urgency_choices,
             when=_unset("priority")),
        Step("description", "tk.dlg.cust_description", multiline=True, when=_unset("description")),
    )))


# ---------------------------------------------------------------- one-text prompts behind buttons


def _code(ctx: Ctx, text: str, values: dict) -> str:
    from handlers.services import tickets

    return tickets.get_ticket(ctx, text).code


def _text_done(op: str):  # noqa: ANN202
    def done(ctx: Ctx, values: dict) -> Reply:
        from handlers.commands.tickets import do_text_op

        return do_text_op(ctx, op, values["code"], values.get("text") or "")

    return done


for _op, _optional in (("note", False), ("reply", False), ("resolve", False), ("reopen", True)):
    register(Dialog(name=f"ticket_{_op}", title_key=f"tk.dlg.{_op}_title", on_done=_text_done(_op), steps=(
        Step("code", "tk.dlg.code", parse=_code),
        Step("text", f"tk.dlg.{_op}_text", multiline=True, optional=_optional),
    )))
