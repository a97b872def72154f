"""Finding a customer from what a user typed: a code, a name (any language, typo-tolerant for Latin
names), a contact's name or a phone — only among the customers the actor may see. And a staff member by name
(`find_staff`).

`search` returns what matched, `resolve_customer` the one match, raises `Ambiguous` (with the candidates, so the caller can offer
buttons via `pick_reply`) or `NotFound` (with the closest names as suggestions).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_

from handlers import inputs
from handlers.context import Ctx
from handlers.errors import NotFound, UserError
from handlers.permissions import can_see_customer, customer_filter
from handlers.views import Action, Option, Reply, Select, Text
from storage.models import Customer, Staff
from storage.repos import customers as customer_repo
from storage.repos import merging as merging_repo
from storage.repos import staff as staff_repo
from storage.textindex import normalize_phone

_SUFFIXES = ("有限责任公司", "股份有限公司", "有限公司", "集团", "公司", " co., ltd.", " co.,ltd", " ltd.", " ltd",
             " inc.", " inc", " llc", " gmbh", " corp.", " corp")
_CODE = re.compile(r"^[A-Za-z]{2,6}\d{7,}$")


def normalize_name(name: str) -> str:
    """Lower-case, without company suffixes, spaces or punctuation: `杭州云栖科技有限公司` → `杭州云栖科技`."""
    n = name.strip().lower()
    for suf in _SUFFIXES:
        if n.endswith(suf) and len(n) > len(suf) + 1:
            n = n[: -len(suf)]
            break
    return re.sub(r"[\W_]+", "", n)


def find_staff(ctx: Ctx, name: str, *, active: bool = True) -> Staff:
    """A staff member by name (case-insensitive; a unique prefix works), or `NotFound`."""
    hit = staff_repo.get_by_name(ctx.session, name=name, active=active)
    if hit is None:
        raise NotFound("staffcmd.not_found", name=(name or "").strip().lstrip("@"))
    return hit


class Ambiguous(UserError):
    def __init__(self, matches: list[Customer], query: str) -> None:
        super().__init__("lookup.ambiguous", query=query, count=len(matches))
        self.matches = matches


class Merged(UserError):
    """The code of a customer merged into another one the actor may see: says which (`.survivor`)."""

    def __init__(self, tombstone: Customer, survivor: Customer) -> None:
        super().__init__("lookup.merged", code=tombstone.code, into=survivor.code, name=survivor.name)
        self.tombstone, self.survivor = tombstone, survivor


def merged_into(ctx: Ctx, query: str) -> tuple[Customer, Customer] | None:
    """(tombstone, survivor) when `query` is the code of a merged customer whose survivor the actor may see."""
    key = inputs.key(query.strip())
    if not _CODE.match(key):
        return None
    dead = customer_repo.get_by_code(ctx.session, code=key, where=Customer.merged_into_id.is_not(None))
    alive = merging_repo.survivor_of(ctx.session, dead) if dead is not None else None
    if alive is None or not can_see_customer(ctx, alive):
        return None
    return dead, alive


@dataclass(frozen=True)
class Found:
    """What a query matched: one page of it, best first (`total` in all; `capped`: at least that many), and the
    names sharing the most 3-character pieces with it (id, normalised name) when the typo match looked them up:
    the suggestions reuse them (one scan per request)."""

    matches: list[Customer]
    candidates: list[tuple[int, str]] | None = None  # None: not looked up
    total: int = -1  # -1: len(matches)
    capped: bool = False

    @property
    def count(self) -> int:
        return len(self.matches) if self.total < 0 else self.total


def search(ctx: Ctx, query: str, *, where: tuple = (), offset: int = 0, limit: int = 50) -> Found:
    """Visible customers matching `query` (and every clause of `where`), best first — the exact name, names
    starting with it, then the shorter names: a code, else a name fragment, a contact's name, phone or e-mail,
    else (Latin names) the closest names to a typo. Only the page `offset`, `limit` is read. The code of a
    merged customer raises `Merged`."""
    q = query.strip()
    if not q:
        return Found([], total=0)
    visible = [customer_filter(ctx), *where]
    s = ctx.session
    if _CODE.match(inputs.key(q)):
        hit = customer_repo.get_by_code(s, code=inputs.key(q), where=and_(*visible))
        if hit is not None:
            return Found([hit] if offset == 0 else [], total=1)
        merged = merged_into(ctx, q) if not where else None
        if merged is not None:
            raise Merged(*merged)
    norm = normalize_name(q)
    phone = normalize_phone(q)
    got = customer_repo.match_text(s, where=visible, name_norm=norm, text=q,
                                   phone=phone if len(phone) >= 6 else None, offset=offset, limit=limit)
    if got.total:
        return Found(got.page, total=got.total, capped=got.capped)
    if not (norm and norm.isascii() and len(norm) >= 4):
        return Found([], total=0)
    # typo tolerance (Latin names): the closest normalized names among those sharing the most pieces
    names = _fuzzy_candidates(ctx, norm, visible[0])
    close = difflib.get_close_matches(norm, [n for _, n in names], n=5, cutoff=0.75)
    ids = [i for i, n in names if n in close]
    if ids:
        found = customer_repo.search(s, where=list(where), ids=ids)
        found.sort(key=lambda c: close.index(c.name_norm) if c.name_norm in close else 99)
        return Found(found[offset:offset + limit], names, total=len(found))
    return Found([], names, total=0)


def _fuzzy_candidates(ctx: Ctx, norm: str, visible) -> list[tuple[int, str]]:  # noqa: ANN001
    """Names sharing the most 3-letter pieces with `norm`, counted in SQL (through the text index): difflib then
    ranks ~200 names, not every customer."""
    size = min(3, len(norm))
    grams = sorted({norm[i:i + size] for i in range(len(norm) - size + 1)})[:16]
    return customer_repo.names_sharing(ctx.session, where=visible, pieces=grams, need=max(1, len(grams) // 4))


def suggestions(ctx: Ctx, query: str, n: int = 3, *, candidates: list[tuple[int, str]] | None = None) -> list[str]:
    """The names closest to `query` (for "did you mean"), from `candidates` when the search looked them up."""
    norm = normalize_name(query)
    if not norm:
        return []
    cands = candidates if candidates is not None else _fuzzy_candidates(ctx, norm, customer_filter(ctx))
    names = customer_repo.names_by_norm(ctx.session, [i for i, _ in cands]) if cands else {}
    close = difflib.get_close_matches(norm, list(names), n=n, cutoff=0.4)
    return [names[c] for c in close]


def not_found(ctx: Ctx, query: str, found: Found | None = None) -> NotFound:
    """The error for a query that matched nothing, naming the closest names when there are some."""
    sug = suggestions(ctx, query, candidates=found.candidates if found else None)
    if sug:
        return NotFound("lookup.not_found_suggest", query=query, suggestions="、".join(sug))
    return NotFound("lookup.not_found", query=query)


def resolve_customer(ctx: Ctx, query: str) -> Customer:
    found = search(ctx, query, limit=26)
    matches = found.matches
    if found.count == 1:
        return matches[0]
    exact = [c for c in matches if c.name_norm == normalize_name(query)]
    if len(exact) == 1:
        return exact[0]
    if matches:
        raise Ambiguous(matches[:25], query)
    raise not_found(ctx, query, found)


def pick_reply(ctx: Ctx, matches: list[Customer], make_cmd: Callable[[Customer], str]) -> Reply:
    """Buttons to pick one of several customers; each re-runs the command with that customer's code."""
    opts = tuple(Option(f"{c.code} {c.name}"[:75], Action(make_cmd(c))) for c in matches[:25])
    return Reply(views=(Text(ctx.t("lookup.pick", count=len(matches))),
                        Select(ctx.t("lookup.pick_placeholder"), opts)))
