"""`housekeeping` (nightly): forget what is only kept for a while.

- `processed_update` rows older than 7 days (Telegram keeps undelivered updates 24 h, Slack retries for
  minutes: a week is far past any redelivery);
- expired server-side button commands (`action_ref`) and abandoned dialogs (`dialog_state`);
- the text of delivered outbox messages once they are `CRM_OUTBOX_KEEP_TEXT` old (7 days by default: the
  message is in the chat, the copy here is only personal data), and the rows themselves after 90 days
  (failed and pending rows keep their text and stay visible until handled);
- spreadsheets written for chat `/export` and report charts (temp folders `crm-export-*`, `crm-chart-*`) older
  than a day;
- spreadsheets sent with `/import` whose Import button was never pressed (`CRM_UPLOAD_DIR`, after 24 hours).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, update
from sqlmodel import Session

from handlers.settings import DomainSettings
from storage import outbox
from storage.models import ActionRef, DialogState, Outbox, ProcessedUpdate
from storage.uploads import UploadStore

KEEP_UPDATES = timedelta(days=7)
KEEP_SENT = timedelta(days=90)
KEEP_EXPORTS = timedelta(days=1)


def run(session: Session, *, now: datetime, settings: DomainSettings, channels: dict[str, str]) -> int:
    n = 0
    for stmt in (delete(ProcessedUpdate).where(ProcessedUpdate.at < now - KEEP_UPDATES),
                 delete(ActionRef).where(ActionRef.expires_at < now),
                 delete(DialogState).where(DialogState.expires_at < now),
                 delete(Outbox).where(Outbox.status == "sent", Outbox.sent_at < now - KEEP_SENT),
                 update(Outbox).where(Outbox.status == "sent", Outbox.sent_at < now - settings.outbox_keep_text,
                                      Outbox.payload != outbox.STRIPPED).values(payload=outbox.STRIPPED)):
        n += session.execute(stmt).rowcount or 0
    return n + _old_exports(now) + UploadStore(settings.upload_dir).sweep(now)


def _old_exports(now: datetime, root: Path | None = None) -> int:
    n = 0
    base = root or Path(tempfile.gettempdir())
    for d in [*base.glob("crm-export-*"), *base.glob("crm-chart-*")]:
        if d.is_dir() and d.stat().st_mtime < (now - KEEP_EXPORTS).timestamp():
            shutil.rmtree(d, ignore_errors=True)
            n += 1
    return n
