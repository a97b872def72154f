"""/approvals — the changes waiting for a manager's decision, each with Approve / Reject (listed after /customer
in /help: the module name orders the verb table).

    /approvals [pN]      managers: their team's pending requests; admins: all of them

A rep's edit of a closed-deal customer's key fields waits for a manager (handlers/services/approvals.py);
the buttons are the same `/customer approve|reject ID` actions the approver was sent.
"""

from __future__ import annotations

from handlers.cards.customers import pending_item
from handlers.commands.registry import command
from handlers.context import Ctx
from handlers.errors import InvalidInput
from handlers.paging import page_of, split_page
from handlers.services.approvals import list_pending
from handlers.views import Reply


@command("approvals", aliases=("approval", "审批", "待审批"))
def cmd_approvals(ctx: Ctx, args: str) -> Reply:
    rest, page = split_page(args)
    if rest:
        raise InvalidInput("appr.list.usage")
    rows = list_pending(ctx)
    return Reply(views=(page_of(ctx, rows, title=ctx.t("appr.list.title"), page=page, cmd="/approvals",
                                item=lambda p: pending_item(ctx, p.request, p.customer, p.requester, p.changes), empty_key="appr.list.empty"),))
