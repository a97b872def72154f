"""The `log_call` dialog: customer → method → feedback → content → next → result (the last three optional
except content), step by step in chat or as one form (Slack modal). And `log_next`: the one-step dialog
behind the "Change" button of the cadence proposal (type when the next follow-up is).

Values are stored JSON-able: the customer as its code, `next` as an ISO timestamp.
"""

from __future__ import annotations

from datetime import datetime

from handlers.cards import followups as cards
from handlers.context import Ctx
from handlers.dialogs.engine import Dialog, Step, register
from handlers.errors import InvalidInput
from handlers.i18n import enum_choices, enum_label, parse_enum
from handlers.lookup import resolve_customer
from handlers.services import followups as svc
from handlers.views import Reply
from storage.models import Customer, FollowUp

NAME = "log_call"
NEXT_NAME = "log_next"


def _customer(ctx: Ctx, text: str, values: dict) -> str:
    """Several matches raise `Ambiguous`: the engine offers them as this step's choices."""
    c = resolve_customer(ctx, text)
    svc.check_can_log(ctx, c)
    return c.code


def _enum(kind: str):  # noqa: ANN202
    def parse(ctx: Ctx, text: str, values: dict) -> str:
        return parse_enum(kind, text, lang=ctx.lang)

    return parse


def _choices(kind: str):  # noqa: ANN202
    def choices(ctx: Ctx, values: dict) -> list[tuple[str, str]]:
        return enum_choices(ctx.lang, kind)

    return choices


def _method(ctx: Ctx, text: str, values: dict) -> str:
    method = svc.match_method(text)
    if method is None:
        labels = ", ".join(label for label, _ in _method_choices(ctx, values))
        raise InvalidInput("err.bad_choice", value=text, choices=labels)
    return method


def _method_choices(ctx: Ctx, values: dict) -> list[tuple[str, str]]:
    return [(enum_label(ctx.lang, "method", m), m) for m in svc.SALES_METHODS]


def _content(ctx: Ctx, text: str, values: dict) -> str:
    if len(text) > ctx.settings.max_text:
        raise InvalidInput("fu.too_long", max=ctx.settings.max_text, length=len(text))
    return text


def _next(ctx: Ctx, text: str, values: dict) -> str:
    return svc.when(ctx, text).isoformat()


def confirmation(ctx: Ctx, fu: FollowUp, customer: Customer) -> Reply:
    """The logged follow-up, with the grade's cadence proposed when no next follow-up was given."""
    return cards.confirmation(ctx, fu, customer, proposed=svc.cadence_proposal(ctx, customer))


def _done(ctx: Ctx, values: dict) -> Reply:
    customer = resolve_customer(ctx, values["customer"])
    nxt = values.get("next")
    fu = svc.log_followup(ctx, customer=customer, method=values.get("method") or "phone",
                          content=values.get("content") or "", feedback=values.get("feedback"),
                          next_at=datetime.fromisoformat(nxt) if nxt else None, result=values.get("result"))
    return confirmation(ctx, fu, customer)


def _next_done(ctx: Ctx, values: dict) -> Reply:
    nxt = values.get("next")
    at = datetime.fromisoformat(nxt) if nxt else None
    _fu, customer, _changed = svc.set_next(ctx, values.get("followup"), at)
    return cards.next_set(ctx, customer, at)


LOG_CALL = register(Dialog(NAME, "fu.dlg.title", steps=(
    Step("customer", "fu.dlg.customer", parse=_customer, max_length=200),
    Step("method", "fu.dlg.method", parse=_method, choices=_method_choices),
    Step("feedback", "fu.dlg.feedback", parse=_enum("feedback"), choices=_choices("feedback"), optional=True),
    Step("content", "fu.dlg.content", parse=_content, multiline=True, max_length=20000),
    Step("next", "fu.dlg.next", parse=_next, optional=True, hint_key="fu.dlg.next_hint", max_length=100),
    Step("result", "fu.dlg.result", parse=_enum("result"), choices=_choices("result"), optional=True),
), on_done=_done))

LOG_NEXT = register(Dialog(NEXT_NAME, "fu.dlg.next_title", steps=(
    Step("next", "fu.dlg.next", parse=_next, hint_key="fu.dlg.next_hint", max_length=100),
), on_done=_next_done))
