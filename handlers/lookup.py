"""Finding a customer from what a user typed: a code, a name (any language, typo-tolerant for Latin
names), a contact's name or a phone — only among the customers the actor may see.

`resolve_customer` returns the one match, raises `Ambiguous` (with the candidates, so the caller can offer
buttons via `pick_reply`) or `NotFound` (with the closest names as suggestions).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

from sqlalchemy import case, func, literal, or_, select

from handlers import inputs
from handlers.context import Ctx
from handlers.errors import NotFound, UserError
from handlers.permissions import customer_filter
from handlers.views import Action, Option, Reply, Select, Text
from storage.models import Contact, Customer

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


def normalize_phone(phone: str) -> str:
    digits = re.sub(r"[^\d+]", "", phone)
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits


class Ambiguous(UserError):
    def __init__(self, matches: list[Customer], query: str) -> None:
        super().__init__("lookup.ambiguous", query=query, count=len(matches))
        self.matches = matches


def find_customers(ctx: Ctx, query: str, *, limit: int = 50) -> list[Customer]:
    """Visible customers matching `query`, best first."""
    q = query.strip()
    if not q:
        return []
    visible = customer_filter(ctx)
    s = ctx.session
    if _CODE.match(inputs.key(q)):
        hit = s.scalar(select(Customer).where(func.upper(Customer.code) == inputs.key(q).upper(), visible))
        if hit is not None:
            return [hit]
    norm = normalize_name(q)
    conds = []
    if norm:
        conds.append(Customer.name_norm.contains(norm, autoescape=True))
    phone = normalize_phone(q)
    contact_ids = select(Contact.customer_id).where(
        or_(Contact.name == q, *( [Contact.phone == phone] if len(phone) >= 6 else [] ),
            func.lower(Contact.email) == q.lower()))
    conds.append(Customer.id.in_(contact_ids))
    rows = list(s.scalars(select(Customer).where(visible, or_(*conds)).limit(limit)))
    if rows:
        rows.sort(key=lambda c: (c.name_norm != norm, not c.name_norm.startswith(norm), len(c.name)))
        return rows
    # typo tolerance (Latin names): closest normalized names
    if norm and norm.isascii() and len(norm) >= 4:
        names = _fuzzy_candidates(ctx, norm, visible)
        close = difflib.get_close_matches(norm, [n for _, n in names], n=5, cutoff=0.75)
        ids = [i for i, n in names if n in close]
        if ids:
            found = list(s.scalars(select(Customer).where(Customer.id.in_(ids))))
            found.sort(key=lambda c: close.index(c.name_norm) if c.name_norm in close else 99)
            return found
    return []


def _fuzzy_candidates(ctx: Ctx, norm: str, visible) -> list[tuple[int, str]]:  # noqa: ANN001
    """Names sharing the most 3-letter pieces with `norm`, counted in SQL: difflib then ranks ~200 names,
    not every customer (a typo search over 20,000 customers stays in milliseconds)."""
    size = min(3, len(norm))
    grams = sorted({norm[i:i + size] for i in range(len(norm) - size + 1)})[:16]
    score = sum((case((Customer.name_norm.contains(g, autoescape=True), 1), else_=0) for g in grams),
                literal(0))
    need = max(1, len(grams) // 4)
    q = (select(Customer.id, Customer.name_norm).where(visible, score >= need)
         .order_by(score.desc()).limit(200))
    return [(i, n) for i, n in ctx.session.execute(q).all()]


def suggestions(ctx: Ctx, query: str, n: int = 3) -> list[str]:
    norm = normalize_name(query)
    if not norm:
        return []
    cands = _fuzzy_candidates(ctx, norm, customer_filter(ctx))
    names = dict(ctx.session.execute(select(Customer.name_norm, Customer.name)
                                     .where(Customer.id.in_([i for i, _ in cands]))).all()) if cands else {}
    close = difflib.get_close_matches(norm, list(names), n=n, cutoff=0.4)
    return [names[c] for c in close]


def resolve_customer(ctx: Ctx, query: str) -> Customer:
    matches = find_customers(ctx, query, limit=26)
    if len(matches) == 1:
        return matches[0]
    exact = [c for c in matches if c.name_norm == normalize_name(query)]
    if len(exact) == 1:
        return exact[0]
    if matches:
        raise Ambiguous(matches[:25], query)
    sug = suggestions(ctx, query)
    if sug:
        raise NotFound("lookup.not_found_suggest", query=query, suggestions="、".join(sug))
    raise NotFound("lookup.not_found", query=query)


def pick_reply(ctx: Ctx, matches: list[Customer], make_cmd: Callable[[Customer], str]) -> Reply:
    """Buttons to pick one of several customers; each re-runs the command with that customer's code."""
    opts = tuple(Option(f"{c.code} {c.name}"[:75], Action(make_cmd(c))) for c in matches[:25])
    return Reply(views=(Text(ctx.t("lookup.pick", count=len(matches))),
                        Select(ctx.t("lookup.pick_placeholder"), opts)))
