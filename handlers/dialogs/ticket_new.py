"""Guided dialogs for tickets: staff open one (customer, contact, type, priority, description), a bound
customer opens one (type, urgency, description), and the short text prompts behind the Add note / Reply /
Resolve / Reopen buttons (ticket code prefilled, then the text). The finishers live here too: `created_reply`,
`do_text_op` (the text operations a prompt or a one-line command ends in) and `new_ticket_from_text` (a bound
customer's plain message)."""

from __future__ import annotations

from handlers.cards.tickets import card_with, created
from handlers.context import Ctx
from handlers.dialogs import engine
from handlers.dialogs.engine import Dialog, Step, register
from handlers.errors import InvalidInput
from handlers.i18n import enum_choices, enum_label, parse_enum
from handlers.lookup import resolve_customer
from handlers.services import complaints, tickets
from handlers.views import Action, Button, Buttons, Reply, Text
from storage.models import Contact, Customer, Ticket
from storage.repos import customers as customer_repo
from storage.repos import merging as merging_repo
from storage.repos import tickets as tickets_repo


def _customer(ctx: Ctx, text: str, values: dict) -> str:
    """Stored as the customer's code, so a prefilled form field shows something a person can read."""
    return resolve_customer(ctx, text).code


def customer_of(ctx: Ctx, values: dict) -> Customer | None:
    """The dialog's customer; merged meanwhile, the customer it was merged into."""
    code = values.get("customer")
    c = customer_repo.get_by_code(ctx.session, code=code) if code else None
    return merging_repo.survivor_of(ctx.session, c) if c is not None and c.merged_into_id is not None else c


def _contacts(ctx: Ctx, values: dict) -> list[Contact]:
    c = customer_of(ctx, values)
    return customer_repo.contacts_of(ctx.session, c.id) if c is not None else []


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


def created_reply(ctx: Ctx, t: Ticket) -> Reply:
    return created(ctx, t, routed=tickets.routed(t))


def _staff_done(ctx: Ctx, values: dict) -> Reply:
    t = tickets.create_ticket(ctx, customer=customer_of(ctx, values), type_=values["type"], priority=values["priority"],
                              description=values["description"], contact_id=values.get("contact"))
    if t.type == "complaint" and values.get("emotion"):
        complaints.classify(ctx, t, emotion=values["emotion"], opening=True)
    return created_reply(ctx, t)


def _emotion_choices(ctx: Ctx, values: dict) -> list[tuple[str, str]]:
    return enum_choices(ctx.lang, "emotion")


def _cause_choices(ctx: Ctx, values: dict) -> list[tuple[str, str]]:
    return enum_choices(ctx.lang, "complaint_cause")


def _complaint(ctx: Ctx, values: dict) -> bool:
    return values.get("type") == "complaint" and "emotion" not in values


def _customer_done(ctx: Ctx, values: dict) -> Reply:
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
        Step("emotion", "cmp.dlg.emotion", parse=_enum("emotion"), choices=_emotion_choices, optional=True,
             when=lambda ctx, v: _complaint(ctx, v) or (ctx.surface == "form" and "emotion" not in v)),
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
    return tickets.get_ticket(ctx, text).code


def do_text_op(ctx: Ctx, op: str, code: str, text: str) -> Reply:
    """Add a note, reply to the customer, resolve or reopen; answer with the card."""
    t = tickets.get_ticket(ctx, code)
    if op == "note":
        tickets.add_note(ctx, t, text)
        return card_with(ctx, t, "tk.noted_ok")
    if op == "reply":
        n = tickets.reply_to_customer(ctx, t, text)
        return card_with(ctx, t, "tk.replied_ok", n=n)
    if op == "resolve":
        tickets.resolve(ctx, t, text)
        bound = bool(tickets_repo.customer_chats(ctx.session, ticket=t))
        return card_with(ctx, t, "tk.resolved_ok" if bound else "tk.resolved_ok_unbound") + cause_buttons(ctx, t)
    tickets.reopen(ctx, t, text or None)
    if ctx.is_customer:
        return Reply(views=(Text(ctx.t("tk.cust_reopened", code=t.code)),))
    return card_with(ctx, t, "tk.reopened_ok")


def _text_done(op: str):  # noqa: ANN202
    def done(ctx: Ctx, values: dict) -> Reply:
        return do_text_op(ctx, op, values["code"], values.get("text") or "")

    return done


for _op, _optional in (("note", False), ("reply", False), ("resolve", False), ("reopen", True)):
    register(Dialog(name=f"ticket_{_op}", title_key=f"tk.dlg.{_op}_title", on_done=_text_done(_op), steps=(
        Step("code", "tk.dlg.code", parse=_code),
        Step("text", f"tk.dlg.{_op}_text", multiline=True, optional=_optional),
    )))


def cause_buttons(ctx: Ctx, t: Ticket) -> Reply:
    """After a complaint is resolved with no cause recorded: one tap records it (the weekly review groups by it)."""
    if t.type != "complaint" or t.cause is not None:
        return Reply()
    return Reply(views=(Text(ctx.t("cmp.dlg.cause")), Buttons(tuple(
        Button(label, Action(f"/ticket classify {t.code} {value}")) for label, value in _cause_choices(ctx, {})))))


def _classify_done(ctx: Ctx, values: dict) -> Reply:
    t = tickets.get_ticket(ctx, values["code"])
    changed = complaints.classify(ctx, t, emotion=values.get("emotion"), cause=values.get("cause"))
    return card_with(ctx, t, "cmp.classified" if changed else "cmp.unchanged")


CLASSIFY = register(Dialog(name="ticket_classify", title_key="cmp.dlg.title", on_done=_classify_done, steps=(
    Step("code", "tk.dlg.code", parse=_code),
    Step("emotion", "cmp.dlg.emotion", parse=_enum("emotion"), choices=_emotion_choices, optional=True),
    Step("cause", "cmp.dlg.cause", parse=_enum("complaint_cause"), choices=_cause_choices, optional=True),
)))


# ---------------------------------------------------------------- a customer's plain message


def new_ticket_from_text(ctx: Ctx, text: str) -> Reply | None:
    """A bound customer writing outside a dialog starts a ticket with that text as the description — or, when
    the company has tickets still open, is asked whether the message belongs to one of them."""
    if ctx.staff is not None or ctx.binding is None or not text.strip():
        return None
    text = text.strip()
    if len(text) > ctx.settings.max_text:  # kept whole or refused, never cut: the customer can send it in two
        raise InvalidInput("err.too_long", max=ctx.settings.max_text)
    open_ones = tickets_repo.list_open_for_customer(ctx.session, ctx.binding.customer_id)[:3]
    if open_ones:
        btns = [Button(ctx.t("tk.btn.add_to", code=t.code), Action(f"/ticket msg {t.code} {text}"))
                for t in open_ones]
        btns.append(Button(ctx.t("tk.btn.new_ticket"), Action(f"/ticket new {text}"), "primary"))
        return Reply(views=(Text(ctx.t("tk.cust_which_ticket")), Buttons(tuple(btns))))
    r = Reply(views=(Text(ctx.t("tk.cust_from_text")),))
    return r + engine.start(ctx, "ticket_customer", {"description": text})
