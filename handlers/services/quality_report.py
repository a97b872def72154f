"""`/report quality [owner:…|team:…]` (数据质量): what is wrong with the customer book, for the managers who keep
it clean (their team's customers and the pool) and admins (everyone). Reps are refused: merging duplicates is
a manager's action (`/customer merge`), and a rep's own gaps reach them in their digest.

- likely duplicates: customers sharing a normalised name (`handlers.lookup.normalize_name`, stored as
  `name_norm`), a contact's phone (as `normalize_phone` has it) or email (case-insensitive); customers linked
  through any of these form one group, oldest first — the newer ones merge into the oldest;
- missing contact data: no contact person, or contacts without any phone and email;
- invalid phones and emails: what the validators used when a contact is added
  (`customer_fields.parse_phone` / `parse_email`) refuse;
- follow-ups that say nothing (handbook 002 §5.1): `followups.is_vague`, the one list of such phrases;
- stale: owned customers, not lost, without a follow-up (or, never followed up, registered) for 90 days.

Merged tombstones are never counted (`customer_filter`), nor erased customers (their data is gone on purpose).
The card is `handlers.cards.reports.quality_report`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from handlers.cards.reports import QUALITY_ITEMS, BadValue, DuplicateGroup, QualityReport
from handlers.context import Ctx
from handlers.errors import InvalidInput
from handlers.permissions import customer_filter
from handlers.services.customer_fields import parse_email, parse_phone
from handlers.services.followups import MIN_CONTENT_CHARS, TRAILING, VAGUE_CONTENT
from handlers.spans import Scope
from storage.models import Customer
from storage.repos import quality as repo
from storage.repos import staff as staff_repo

STALE_DAYS = 90
ROLES = ("admin", "manager")


def _valid(check, ctx: Ctx, value: str) -> bool:  # noqa: ANN001
    try:
        check(ctx, value)
    except InvalidInput:
        return False
    return True


def _groups(rows: list[tuple[str, str, int, object]]) -> list[tuple[list[int], list[tuple[str, str]]]]:
    """Customers linked by any shared key, as groups (ids oldest first; the keys they share); the groups in
    the order of their oldest customer."""
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.setdefault(i, i) != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    born: dict[int, object] = {}
    for kind, key, cid, at in rows:
        by_key[(kind, key)].append(cid)
        born[cid] = at
    for ids in by_key.values():
        for other in ids[1:]:
            parent[root(other)] = root(ids[0])
    members: dict[int, list[int]] = defaultdict(list)
    for cid in born:
        members[root(cid)].append(cid)
    keys: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for (kind, key), ids in sorted(by_key.items(), key=lambda kv: ("name", "phone", "email").index(kv[0][0])):
        if len(set(ids)) > 1:
            keys[root(ids[0])].append((kind, key))
    age = lambda cid: (born[cid], cid)  # noqa: E731
    groups = [(sorted(ids, key=age), keys[r]) for r, ids in members.items()]
    return sorted(groups, key=lambda g: age(g[0][0]))


def quality(ctx: Ctx, *, scope: Scope) -> QualityReport:
    where = customer_filter(ctx) & Customer.erased_at.is_(None)
    if scope.staff_ids is not None:
        where = where & Customer.owner_id.in_(scope.staff_ids)
    s, n = ctx.session, QUALITY_ITEMS
    groups = _groups(repo.duplicate_keys(s, where=where))
    shown = groups[:n]
    loaded = {c.id: c for c in repo.customers(s, [cid for ids, _ in shown for cid in ids])}
    duplicates = [DuplicateGroup([loaded[cid] for cid in ids], keys) for ids, keys in shown]
    no_contact, no_reach, missing = repo.missing_contact(s, where=where, limit=n)
    phones = [(c, k) for c, k in repo.odd_phones(s, where=where) if not _valid(parse_phone, ctx, k.phone)]
    bad_mail = [i for i, e in repo.emails(s, where=where) if not _valid(parse_email, ctx, e)]
    invalid = [BadValue(c, k, "phone", k.phone) for c, k in phones[:n]]
    invalid += [BadValue(c, k, "email", k.email) for c, k in repo.contacts_with_customers(s, bad_mail[:n - len(invalid)])]
    vague, vague_items = repo.vague_followups(s, where=where, phrases=VAGUE_CONTENT, trailing=TRAILING,
                                             min_chars=MIN_CONTENT_CHARS, limit=n)
    stale, stale_items = repo.stale(s, where=where, before=ctx.now - timedelta(days=STALE_DAYS), limit=n)
    return QualityReport(
        groups=len(groups), grouped=sum(len(ids) for ids, _ in groups), duplicates=duplicates,
        no_contact=no_contact, no_reach=no_reach, missing=missing, bad_phones=len(phones), bad_emails=len(bad_mail),
        invalid=invalid, vague=vague, vague_items=vague_items, stale=stale, stale_items=stale_items,
        stale_days=STALE_DAYS, as_of=ctx.now, names=staff_repo.names(s))
