"""/approvals — the changes waiting for a manager's decision, each with Approve / Reject (listed after /customer
in /help: the module name orders the verb table).

    /approvals [pN]      managers: their team's pending requests; admins: all of them

A rep's edit of a closed-deal customer's key fields waits for a manager (handlers/services/approvals.py);
the buttons are the same `/customer approve|reject ID` actions the approver was sent.
"""

from __future__ import annotations

from handlers.commands import command
from handlers.context import Ctx
from handlers.errors import InvalidInput
from handlers.paging import page_of, split_page
from handlers.services.approvals import Pending, decision_buttons, list_pending, show_value
from handlers.views import ListItem, Reply


@command("approvals", aliases=("approval", "审批", "待审批"))
def cmd_approvals(ctx: Ctx, args: str) -> Reply:
    rest, page = split_page(args)
    if rest:
        raise InvalidInput("appr.list.usage")
    rows = list_pending(ctx)
    return Reply(views=(page_of(ctx, rows, title=ctx.t("appr.list.title"), page=page, cmd="/approvals",
                                item=lambda p: _item(ctx, p), empty_key="appr.list.empty"),))


def _item(ctx: Ctx, p: Pending) -> ListItem:
    """`ABC2026001 Deal Corp — asked by alice, 2026-11-23 10:00` · one `field: from → to` line per change."""
    req, c = p.request, p.customer
    changes = [f"{ctx.t(f'cust.f.{f}')}: {show_value(ctx.lang, f, old)} → {show_value(ctx.lang, f, new)}"
               for f, (old, new) in p.changes.items()]
    head = ctx.t("appr.list.item", code=c.code, name=c.name, requester=p.requester.name if p.requester else "—",
                 at=ctx.fmt_dt(req.created_at))
    return ListItem(text=head, detail="\n".join(changes), buttons=decision_buttons(ctx.lang, req.id))
