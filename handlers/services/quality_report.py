"""`/report quality [owner:…|team:…]` (数据质量): what is wrong with the customer book, for the managers who keep
it clean (their team's customers and the pool) and admins (everyone). Reps are refused: merging duplicates is
a manager's action (`/customer merge`), and a rep's own gaps reach them in their digest.

- likely duplicates: customers sharing a normalised name (`handlers.lookup.normalize_name`, stored as
  `name_norm`), a contact's phone or e-mail (their searchable forms, `contact.phone_norm` / `email_norm`);
  customers linked through any of these form one group, oldest first — the newer ones merge into the oldest;
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
MIN_PHONE = 6  # a shorter phone (an extension, a typo) links nobody
KINDS = ("name", "phone", "email")
ROLES = ("admin", "manager")


def _valid(check, ctx: Ctx, value: str) -> bool:  # noqa: ANN001
    try:
        check(ctx, value)
    except InvalidInput:
        return False
    return True


def _groups(rows: list[tuple[str, str, int]]) -> list[tuple[list[int], list[tuple[str, str]]]]:
    """Customers linked by any shared key, as groups (ids oldest first — ids follow registration; the keys
    they share, names first); the groups in the order of their oldest customer."""
    by_key: dict[tuple[str, str], set[int]] = defaultdict(set)
    for kind, key, cid in rows:
        by_key[(kind, key)].add(cid)
    group_of: dict[int, int] = {}
    members: list[set[int]] = []
    keys: list[list[tuple[str, str]]] = []
    for k, ids in by_key.items():
        if len(ids) < 2:
            continue
        hit = sorted({group_of[c] for c in ids if c in group_of})
        if not hit:
            g = len(members)
            members.append(set())
            keys.append([])
        else:
            g = hit[0]
            for h in hit[1:]:  # this key links groups found before: one group now
                members[g] |= members[h]
                keys[g] += keys[h]
                for c in members[h]:
                    group_of[c] = g
                members[h], keys[h] = set(), []
        members[g] |= ids
        keys[g].append(k)
        for c in ids:
            group_of[c] = g
    out = [(sorted(m), sorted(ks, key=lambda kv: (KINDS.index(kv[0]), kv[1])))
           for m, ks in zip(members, keys, strict=True) if m]
    return sorted(out, key=lambda g: g[0][0])


def quality(ctx: Ctx, *, scope: Scope) -> QualityReport:
    where = customer_filter(ctx) & Customer.erased_at.is_(None)
    if scope.staff_ids is not None:
        where = where & Customer.owner_id.in_(scope.staff_ids)
    s, n = ctx.session, QUALITY_ITEMS
    odd = repo.odd_phones(s, where=where)
    groups = _groups(repo.duplicate_keys(s, where=where, min_phone=MIN_PHONE))
    shown = groups[:n]
    loaded = {c.id: c for c in repo.customers(s, [cid for ids, _ in shown for cid in ids])}
    duplicates = [DuplicateGroup([loaded[cid] for cid in ids], keys) for ids, keys in shown]
    no_contact, no_reach, missing = repo.missing_contact(s, where=where, limit=n)
    phones = [(c, k) for c, k in odd if not _valid(parse_phone, ctx, k.phone)]
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
