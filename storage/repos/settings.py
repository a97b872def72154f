"""Run-time settings kept in the `setting` table: the service channel chosen in chat (`/setup service`)."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from storage.models import Setting

SERVICE_CHANNEL = "service_channel:"  # + platform; value: the chat id as a JSON string


def service_channels(session: Session) -> dict[str, str]:
    """platform → the service channel stored by `/setup service` (these override the env defaults)."""
    rows = session.scalars(select(Setting).where(Setting.key.startswith(SERVICE_CHANNEL)))
    return {r.key.removeprefix(SERVICE_CHANNEL): json.loads(r.value) for r in rows}


def with_stored_channels(session: Session, defaults: dict[str, str]) -> dict[str, str]:
    """The env defaults with what `/setup service` stored on top (a platform set in chat drops the console's
    placeholder `#service`, which stands only for 'no channel anywhere')."""
    stored = service_channels(session)
    base = {p: c for p, c in defaults.items() if not (stored and p == "console" and c == "#service")}
    return {**base, **stored}
