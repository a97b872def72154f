"""`/report customers [PERIOD] [owner:…|team:…]` (客户): the customers registered in the period by source and
industry, the type changes recorded in it (the audit trail's `type` entries: potential → intent → deal, and
lost), and how many customers of each type there are now. Over the customers the viewer may see (a manager's
include the pool's), narrowed to their owners by `owner:`/`team:`. The table and chart are
`handlers.cards.reports.customers_report`.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from handlers.cards.reports import TYPES, CustomerReport
from handlers.context import Ctx
from handlers.permissions import customer_filter
from handlers.spans import Scope
from storage.models import Customer
from storage.repos import audit as audit_repo
from storage.repos import customers as customer_repo


def _path_order(change: tuple[str | None, str | None, int]) -> tuple:
    """Along the path first (potential → intent → deal), then into lost, then the rest; most first within."""
    a, b, n = change
    rank = {"potential": 0, "intent": 1, "deal": 2, "lost": 3}
    forward = a in rank and b in rank and rank[b] == rank[a] + 1 and b != "lost"
    return (0 if forward else 1 if b == "lost" else 2, rank.get(a or "", 9), -n)


def customer_report(ctx: Ctx, *, start: datetime, end: datetime, scope: Scope) -> CustomerReport:
    where = customer_filter(ctx)
    if scope.staff_ids is not None:
        where = where & Customer.owner_id.in_(scope.staff_ids)
    rows = customer_repo.created_between(ctx.session, where=where, start=start, end=end)
    sources = Counter((s or "").strip() or None for s, _ in rows)
    industries = Counter(i for _, i in rows)
    changes = [c for c in audit_repo.type_changes(ctx.session, where=where, start=start, end=end) if c[0] != c[1]]
    now = customer_repo.count_by_type(ctx.session, where=where)
    return CustomerReport(
        new=len(rows),
        by_source=sorted(sources.items(), key=lambda kv: (kv[0] is None, -kv[1], kv[0] or "")),
        by_industry=sorted(industries.items(), key=lambda kv: (-kv[1], kv[0])),
        changes=sorted(changes, key=_path_order), now={k: now.get(k, 0) for k in TYPES})
