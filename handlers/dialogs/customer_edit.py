"""Editing a customer from the Edit button.

In chat (`customer_edit_field`): pick a field, type its new value; repeat from the result's Edit button.
As a form (`customer_edit`, a Slack modal): every editable field prefilled with the current value; on
submit, only the fields whose value changed are applied. Both end in `apply_edit`, the same path as
`/customer edit CODE field=value …` (audit entries; approval for key fields of a `deal` customer).
"""

from __future__ import annotations

from typing import Any

from handlers.cards.customers import edit_result, show_value
from handlers.context import Ctx
from handlers.dialogs.engine import Dialog, Step, register
from handlers.errors import InvalidInput, UserError
from handlers.i18n import enum_choices, enum_label
from handlers.lookup import resolve_customer
from handlers.permissions import team_ids
from handlers.services.customer_fields import industry_choices
from handlers.services.customers import EDITABLE, PARSERS, edit_customer
from handlers.views import Reply
from storage.models import Customer
from storage.repos import customers as customer_repo
from storage.repos import staff as staff_repo

FORM_FIELDS = ("name", "industry", "type", "contact", "title", "phone", "email", "address", "tags", "source",
               "demand", "notes")


def editable_fields(ctx: Ctx) -> tuple[str, ...]:
    if ctx.role in ("manager", "admin"):
        return EDITABLE
    return tuple(f for f in EDITABLE if f not in ("grade", "owner"))


def apply_edit(ctx: Ctx, c: Customer, changes: dict[str, Any]) -> Reply:
    """Apply what the actor may change at once, hold the rest for approval, and say which is which."""
    applied, request = edit_customer(ctx, c, changes)
    return edit_result(ctx, c, applied, request)


def _customer(ctx: Ctx, text: str, values: dict) -> str:
    return resolve_customer(ctx, text).code


def _lookup(ctx: Ctx, code: str) -> Customer:
    return resolve_customer(ctx, code)


# ---------------------------------------------------------------- chat: field, then value


def _field_choices(ctx: Ctx, values: dict) -> list[tuple[str, str]]:
    """Each editable field, labelled with its current value (`Phone: 13812345678`)."""
    cur: dict = {}
    if values.get("customer"):
        try:
            c = _lookup(ctx, values["customer"])
        except UserError:
            c = None
        if c is not None:
            cur = customer_repo.current_values(ctx.session, c)
            cur["owner"] = staff_repo.name_of(ctx.session, c.owner_id)
    out = []
    for f in editable_fields(ctx):
        shown = show_value(ctx.lang, f, cur.get(f))
        if f == "industry" and cur.get(f):
            shown = enum_label(ctx.lang, "industry", cur[f])
        out.append((f"{ctx.t(f'cust.f.{f}')}: {shown}"[:60], f))
    return out


def _field(ctx: Ctx, text: str, values: dict) -> str:
    t = text.strip().lower()
    for f in editable_fields(ctx):
        if t in (f, ctx.t(f"cust.f.{f}").lower()):
            return f
    raise InvalidInput("err.bad_choice", value=text, choices=", ".join(
        ctx.t(f"cust.f.{f}") for f in editable_fields(ctx)))


def _value(ctx: Ctx, text: str, values: dict) -> Any:
    if values.get("field") not in PARSERS:  # a form whose field choice failed (its own error says why)
        raise InvalidInput("cust.err.field_first")
    return PARSERS[values["field"]](ctx, text, values)


def _field_done(ctx: Ctx, values: dict) -> Reply:
    return apply_edit(ctx, _lookup(ctx, values["customer"]), {values["field"]: values["value"]})


def _value_choices(ctx: Ctx, values: dict) -> list[tuple[str, str]]:
    f = values.get("field")
    if f == "industry":
        return industry_choices(ctx)
    if f == "type":
        return enum_choices(ctx.lang, "customer_type")
    if f == "grade":
        return enum_choices(ctx.lang, "grade") + [(ctx.t("cust.grade_auto"), "auto")]
    if f == "owner":  # whom the actor may give a customer to: their team's active sales staff (admins: all)
        ids = None if ctx.role == "admin" else team_ids(ctx)
        return [(st.name, st.name) for st in staff_repo.list_sales(ctx.session, ids=ids) if st.active][:25]
    return []


CUSTOMER_EDIT_FIELD = register(Dialog("customer_edit_field", "cust.dlg.edit_title", (
    Step("customer", "cust.dlg.customer", parse=_customer),
    Step("field", "cust.dlg.field", parse=_field, choices=_field_choices),
    Step("value", "cust.dlg.value", parse=_value, choices=_value_choices, max_length=3000),
), on_done=_field_done))


# ---------------------------------------------------------------- form: every field prefilled


def _form_done(ctx: Ctx, values: dict) -> Reply:
    c = _lookup(ctx, values["customer"])
    changes = {k: v for k, v in values.items() if k in FORM_FIELDS and v is not None}
    return apply_edit(ctx, c, changes)


def form_prefill(ctx: Ctx, c: Customer) -> dict[str, str]:
    cur = customer_repo.current_values(ctx.session, c)
    out = {"customer": c.code}
    for k in FORM_FIELDS:
        v = cur.get(k)
        out[k] = ",".join(v) if isinstance(v, list) else ("" if v is None else str(v))
    return out


def _form_step(name: str, **kw: Any) -> Step:
    return Step(name, f"cust.dlg.{name}", parse=PARSERS[name], optional=True, **kw)


CUSTOMER_EDIT = register(Dialog("customer_edit", "cust.dlg.edit_title", (
    Step("customer", "cust.dlg.customer", parse=_customer),
    _form_step("name", max_length=200),
    _form_step("industry", choices=industry_choices),
    _form_step("type", choices=lambda ctx, v: enum_choices(ctx.lang, "customer_type")),
    _form_step("contact", max_length=100),
    _form_step("title", max_length=100),
    _form_step("phone"),
    _form_step("email"),
    _form_step("address", max_length=500),
    _form_step("tags"),
    _form_step("source", max_length=100),
    _form_step("demand", multiline=True),
    _form_step("notes", multiline=True),
), on_done=_form_done))
