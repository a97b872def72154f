"""`/customer merge` views: the confirmation (both customers, what moves, Merge / Cancel) and the result."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handlers.i18n import enum_label
from handlers.views import Action, Button, Confirm, Fields, Header, Reply, Text
from storage.models import Customer
from storage.repos import customers as customer_repo
from storage.repos import staff as staff_repo

if TYPE_CHECKING:
    from handlers.context import Ctx

# what moves, in the order the confirmation lists it; any other table is counted as "other records"
KINDS = ("contact", "followup", "opportunity", "ticket", "purchase", "customer_tag", "chat_binding", "audit_log")


def merge_cmd(src: Customer, dst: Customer, word: str = "") -> str:
    """The command a Merge / Cancel button stands for (the same text a user or another card may type)."""
    return f"/customer merge {src.code} INTO {dst.code}" + (f" {word}" if word else "")


def _summary(ctx: Ctx, c: Customer) -> str:
    owner = staff_repo.name_of(ctx.session, c.owner_id) or ctx.t("cust.pool_owner")
    contacts = ", ".join(ct.name for ct in customer_repo.contacts_of(ctx.session, c.id)) or "—"
    return " · ".join([c.name, enum_label(ctx.lang, "customer_type", c.type), c.grade, owner, contacts])


def moves_text(ctx: Ctx, counts: dict[str, int]) -> str:
    """`3 contacts, 5 follow-ups, …` (or "nothing but the customer itself")."""
    parts = [ctx.t(f"merge.kind.{k}", n=counts[k]) for k in KINDS if counts.get(k)]
    other = sum(n for k, n in counts.items() if k not in KINDS)
    if other:
        parts.append(ctx.t("merge.kind.other", n=other))
    return ("、" if ctx.lang == "zh" else ", ").join(parts) if parts else ctx.t("merge.kind.none")


def merge_confirm(ctx: Ctx, src: Customer, dst: Customer, counts: dict[str, int]) -> Reply:
    return Reply(views=(
        Header(ctx.t("merge.title", src=src.code, dst=dst.code)),
        Fields(((ctx.t("merge.f.src", code=src.code), _summary(ctx, src)),
                (ctx.t("merge.f.dst", code=dst.code), _summary(ctx, dst)),
                (ctx.t("merge.f.moves"), moves_text(ctx, counts)))),
        Confirm(ctx.t("merge.question", src=src.code, dst=dst.code),
                yes=Button(ctx.t("merge.btn.merge"), Action(merge_cmd(src, dst, "yes")), "danger"),
                no=Button(ctx.t("merge.btn.cancel"), Action(merge_cmd(src, dst, "cancel"))))),
        replace=ctx.via_button)


def merge_done(ctx: Ctx, src: Customer, dst: Customer, moved: dict[str, int]) -> Reply:
    return Reply(views=(Text(ctx.t("merge.done", src=src.code, dst=dst.code, name=dst.name,
                                   moves=moves_text(ctx, moved))),), replace=ctx.via_button)


def merge_cancelled(ctx: Ctx, src: Customer, dst: Customer) -> Reply:
    return Reply(views=(Text(ctx.t("merge.cancelled", src=src.code, dst=dst.code)),), replace=ctx.via_button)
