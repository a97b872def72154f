"""Words a user typed that are almost ours: the enum word they probably meant (`hgh` → high), the same kind
of word given twice (`positive negative`), and scope words (`team`, `all`) that only managers may use.

Used by the one-line commands whose head is `CUSTOMER WORD WORD…` (/log, /ticket new), so that a typo in a
word is blamed on the word, not on the customer.
"""

from __future__ import annotations

import difflib

from handlers.context import Ctx
from handlers.errors import Forbidden, InvalidInput, NotFound
from handlers.i18n import ENUMS, enum_label, label_index, match_enum
from handlers.lookup import Ambiguous, resolve_customer
from storage.models import Customer

MANAGERS = ("manager", "admin")


def suggest(ctx: Ctx, word: str, kinds: tuple[str, ...]) -> str | None:
    """The label (in the actor's language) of the enum value closest to `word` among `kinds`, or None."""
    index = {w: (kind, v) for kind in kinds for w, v in label_index(kind, ENUMS[kind]).items()}
    close = difflib.get_close_matches(word.lower(), list(index), n=1, cutoff=0.6)
    if not close:
        return None
    kind, value = index[close[0]]
    return enum_label(ctx.lang, kind, value)


def split_customer(ctx: Ctx, words: list[str]) -> tuple[Customer, list[str]] | None:
    """The longest leading words that name exactly one visible customer, and the words after them."""
    for n in range(min(len(words) - 1, 4), 0, -1):
        try:
            return resolve_customer(ctx, " ".join(words[:n])), words[n:]
        except (NotFound, Ambiguous):
            continue
    return None


def check_words(ctx: Ctx, words: list[str], kinds: tuple[str, ...], *, key: str, code: str,
                **params: object) -> None:
    """Raise for the first word that is not one of `kinds` (`key`, with a "did you mean" hint), or for a
    second word of a kind already given (`word.twice`, naming both). Returns when every word is fine."""
    seen: dict[str, str] = {}
    unknown: list[str] = []
    for w in words:
        kind = next((k for k in kinds if match_enum(k, w)), None)
        if kind is None:
            unknown.append(w)
        elif kind in seen:
            raise InvalidInput("err.word_twice", second=w, first=seen[kind], kind=ctx.t(f"err.word_kind.{kind}"))
        else:
            seen[kind] = w
    if unknown:
        close = [s for s in (suggest(ctx, w, kinds) for w in unknown) if s]
        hint = ctx.t("err.did_you_mean", words=", ".join(dict.fromkeys(close))) if close else ""
        raise InvalidInput(key, code=code, words=" ".join(unknown), hint=hint, **params)


def refuse_words_after_customer(ctx: Ctx, head: str, kinds: tuple[str, ...], *, key: str,
                                values: dict[str, tuple[str, ...]] | None = None) -> None:
    """`合力环保 complain hgh`: the customer is known, so the words after it are what is wrong; raises, or
    returns when no leading words name a customer (the caller then reports the customer as not found)."""
    words = head.split()
    found = split_customer(ctx, words)
    if found is None or not found[1]:
        return
    customer, rest = found
    offered = {k: (values or {}).get(k, ENUMS[k]) for k in kinds}  # `values`: what may be typed, if narrower
    choices = {k: ", ".join(enum_label(ctx.lang, k, v) for v in offered[k]) for k in kinds}
    check_words(ctx, rest, kinds, key=key, code=customer.code, **{f"{k}_choices": v for k, v in choices.items()})


def scope_word(ctx: Ctx, word: str, *, cmd: str) -> str | None:
    """`team`/`团队`/`all` → the scope, for managers and admins; a rep is told it is for managers (never a
    usage message, never a quietly narrower list). `mine` → "mine"; any other word → None."""
    scope = match_enum("scope", word)
    if scope in ("team", "all") and (ctx.staff is None or ctx.staff.role not in MANAGERS):
        raise Forbidden("err.scope_managers", word=word, cmd=cmd)
    return scope
