"""Gap-free, unique codes under concurrency.

A counter row per series is bumped with one atomic upsert (`INSERT … ON CONFLICT DO UPDATE … RETURNING`).
The row stays locked until the unit of work commits, so concurrent creators queue on it; if the unit of work
rolls back, the bump rolls back too, so a code is never skipped. Works on SQLite ≥ 3.35 and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

_UPSERT = text(
    "INSERT INTO code_counter (series, value) VALUES (:series, 1) "
    "ON CONFLICT (series) DO UPDATE SET value = code_counter.value + 1 "
    "RETURNING value"
)


def next_value(session: Session, series: str) -> int:
    return int(session.execute(_UPSERT, {"series": series}).scalar_one())


def customer_code(session: Session, *, abbr: str, year: int) -> str:
    """`ABC2026001`: company abbreviation + year + 3-digit sequence (more digits past 999)."""
    return f"{abbr}{year}{next_value(session, f'cust:{abbr}:{year}'):03d}"


def ticket_code(session: Session, *, year: int) -> str:
    """`FW2026001`."""
    return f"FW{year}{next_value(session, f'fw:{year}'):03d}"


def opportunity_code(session: Session, *, customer_code: str) -> str:
    """`ABC2026001OP01`."""
    return f"{customer_code}OP{next_value(session, f'op:{customer_code}'):02d}"
