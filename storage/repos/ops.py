"""Read queries for running the bot (health and metrics): figures over the whole database, no personal data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from storage.models import DialogState, SlaBreach


def sla_breaches_by_kind(session: Session) -> dict[str, int]:
    """How many SLA deadlines were ever missed, by kind (assign, contact, resolve): first escalations only."""
    rows = session.execute(select(SlaBreach.kind, func.count()).where(SlaBreach.level == 1)
                           .group_by(SlaBreach.kind))
    return {kind: n for kind, n in rows}


def active_dialogs(session: Session, *, now: datetime) -> dict[str, int]:
    """Guided dialogs under way (not expired), by dialog name."""
    rows = session.execute(select(DialogState.dialog, func.count()).where(DialogState.expires_at > now)
                           .group_by(DialogState.dialog))
    return {name: n for name, n in rows}
