"""Gap-free, unique codes under concurrency.

A counter row per series is bumped with one atomic upsert (`INSERT … ON CONFLICT DO UPDATE … RETURNING`).
The row stays locked until the unit of work commits, so concurrent creators queue on it; if the unit of work
rolls back, the bump rolls back too, so a code is never skipped. Works on SQLite ≥ 3.35 and PostgreSQL.
An import reserves a block of N codes with the same statement (`+ N`), under the same lock: the block is
used in full by the unit of work that reserved it, or rolled back with it.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

_UPSERT = text(
    "INSERT INTO code_counter (series, value) VALUES (:series, :n) "
    "ON CONFLICT (series) DO UPDATE SET value = code_counter.value + :n "
    "RETURNING value"
)


def reserve(session: Session, series: str, n: int) -> range:
    """The next `n` values of `series`, taken at once (one statement; the counter row stays locked)."""
    if n < 1:
        raise ValueError("reserve at least one value")
    last = int(session.execute(_UPSERT, {"series": series, "n": n}).scalar_one())
    return range(last - n + 1, last + 1)


def next_value(session: Session, series: str) -> int:
    return reserve(session, series, 1)[0]


def customer_code(session: Session, *, abbr: str, year: int) -> str:
    """`ABC2026001`: company abbreviation + year + 3-digit sequence (more digits past 999)."""
    return customer_codes(session, abbr=abbr, year=year, n=1)[0]


def customer_codes(session: Session, *, abbr: str, year: int, n: int) -> list[str]:
    """`n` consecutive customer codes, reserved at once (an import's batch)."""
    return [f"{abbr}{year}{v:03d}" for v in reserve(session, f"cust:{abbr}:{year}", n)]


def ticket_code(session: Session, *, year: int) -> str:
    """`FW2026001`."""
    return f"FW{year}{next_value(session, f'fw:{year}'):03d}"


def opportunity_code(session: Session, *, customer_code: str) -> str:
    """`ABC2026001OP01`."""
    return f"{customer_code}OP{next_value(session, f'op:{customer_code}'):02d}"
