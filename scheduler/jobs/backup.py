"""`backup` (nightly, 03:00 local): a copy of the SQLite database in `CRM_BACKUP_DIR`, the newest
`CRM_BACKUP_KEEP` kept. Off while `CRM_BACKUP_DIR` is empty. PostgreSQL is backed up with pg_dump, not here:
the bot refuses to start with `CRM_BACKUP_DIR` set on PostgreSQL, and the job fails loudly if run there.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.settings import DomainSettings
from storage import backup
from storage.files import private_dir

PREFIX = "crm-"

log = logging.getLogger("crm.backup")


def run(session: Session, *, now: datetime, settings: DomainSettings, channels: dict[str, str]) -> int:
    if not settings.backup_dir:
        log.info("nightly backup is off (CRM_BACKUP_DIR is empty)")
        return 0
    folder = private_dir(settings.backup_dir)
    local = now.astimezone(ZoneInfo(settings.default_tz))
    snap = backup.backup(session.get_bind(), folder / f"{PREFIX}{local:%Y%m%d-%H%M%S}.db")
    gone = backup.prune(folder, prefix=PREFIX, keep=settings.backup_keep)
    log.info("backup written: %s (%d bytes); %d older removed", snap.path.name, snap.size, len(gone))
    return 1
