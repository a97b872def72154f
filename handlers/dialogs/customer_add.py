"""The `customer_add` dialog (`/customer add`) and the finishing step shared with the one-line form:
check for duplicates (among all customers), then save and show the card.

Possible duplicates are listed with "Open existing" (only those the actor may see; others are reported as
owned by someone else) and "Create anyway", which re-sends the same values as a one-line command with
`force=1` (the core stores long button commands server side).
"""

from __future__ import annotations

from typing import Any

from handlers.cards.customers import customer_card, owner_label
from handlers.context import Ctx
from handlers.dialogs.engine import Dialog, Step, register
from handlers.i18n import enum_choices
from handlers.permissions import can_see_customer
from handlers.services.customer_fields import industry_choices, quote
from handlers.services.customers import PARSERS, create_customer, find_duplicates
from handlers.views import Action, Button, Buttons, ListItem, ListPage, Reply, Text
from storage.models import Customer
from storage.repos import staff as staff_repo

ORDER = ("name", "industry", "type", "contact", "title", "phone", "email", "address", "tags", "source",
         "demand", "notes", "owner", "grade")


def command_for(ctx: Ctx, values: dict[str, Any], *, force: bool = True) -> str:
    """The one-line `/customer add …` that saves exactly these values."""
    parts = ["/customer add"] + (["force=1"] if force else [])
    for k in ORDER:
        v = values.get(k)
        if v in (None, "", []):
            continue
        if k == "tags":
            v = ",".join(v)
        elif k == "owner":
            v = staff_repo.name_of(ctx.session, v) or v
        parts.append(f"{k}={quote(v)}")
    return " ".join(parts)


def duplicates_reply(ctx: Ctx, values: dict[str, Any], dups: list[Customer]) -> Reply:
    items = []
    for c in dups:
        if can_see_customer(ctx, c):
            items.append(ListItem(f"{c.code} {c.name}", owner_label(ctx, c),
                                  (Button(ctx.t("cust.dup.open"), Action(f"/customer {c.code}")),)))
        else:
            items.append(ListItem(ctx.t("cust.dup.hidden"), ctx.t("cust.dup.hidden_detail")))
    return Reply(views=(
        Text(ctx.t("cust.dup.found", name=values.get("name", ""))),
        ListPage(ctx.t("cust.dup.title"), tuple(items), total=len(items)),
        Buttons((Button(ctx.t("cust.dup.create"), Action(command_for(ctx, values))),)),
    ))


def finish_add(ctx: Ctx, values: dict[str, Any], *, force: bool = False) -> Reply:
    if not force:
        dups = find_duplicates(ctx.session, name=values.get("name"), phone=values.get("phone"),
                               email=values.get("email"))
        if dups:
            return duplicates_reply(ctx, values, dups)
    c = create_customer(ctx, values)
    return Reply(views=(Text(ctx.t("cust.created", code=c.code, name=c.name)),)) + customer_card(ctx, c)


def _on_done(ctx: Ctx, values: dict) -> Reply:
    return finish_add(ctx, values)


def _type_choices(ctx: Ctx, values: dict) -> list[tuple[str, str]]:
    return enum_choices(ctx.lang, "customer_type")


def _step(name: str, **kw: Any) -> Step:
    return Step(name, f"cust.dlg.{name}", parse=PARSERS[name], **kw)


CUSTOMER_ADD = register(Dialog("customer_add", "cust.dlg.add_title", (
    _step("name", max_length=200),
    _step("industry", choices=industry_choices),
    _step("type", choices=_type_choices),
    _step("contact", optional=True, max_length=100),
    _step("title", optional=True, max_length=100),
    _step("phone", optional=True, hint_key="cust.dlg.phone_hint"),
    _step("email", optional=True),
    _step("address", optional=True, max_length=500),
    _step("tags", optional=True, hint_key="cust.dlg.tags_hint"),
    _step("source", optional=True, max_length=100),
    _step("demand", optional=True, multiline=True),
    _step("notes", optional=True, multiline=True),
), on_done=_on_done))
