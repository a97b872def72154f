"""Schema upgrades. `upgrade(url)` brings an empty or older database to the current schema (Alembic)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from storage.db import create_all


def upgrade(engine: Engine) -> None:
    # Placeholder until the Alembic environment lands: creates missing tables.
    create_all(engine)
