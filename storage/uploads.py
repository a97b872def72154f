"""Files users sent that wait for a decision (a spreadsheet between its dry run and the Import button).

Each is kept under a random key in a private folder (0700, files 0600): `<key><suffix>` holds the file and
`<key>.json` what it is for (who sent it, where, until when). The folder is on the bot's own disk, so a file
outlives a restart; `sweep` deletes what expired.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from storage.files import FILE_MODE, private_dir

KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class UploadStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()

    @staticmethod
    def valid_key(key: str) -> bool:
        return 8 <= len(key) <= 32 and set(key) <= KEY_CHARS

    def put(self, src: str | Path, *, suffix: str, meta: dict[str, Any]) -> str:
        """Copy `src` in under a new key with `meta`; returns the key."""
        private_dir(self.root)
        key = secrets.token_urlsafe(12)
        dest = self.root / f"{key}{suffix}"
        fd = os.open(dest, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
        with os.fdopen(fd, "wb") as out, open(src, "rb") as f:
            shutil.copyfileobj(f, out, 1 << 20)
        self._write_meta(key, {**meta, "file": dest.name})
        return key

    def _write_meta(self, key: str, meta: dict[str, Any]) -> None:
        tmp = self.root / f"{key}.json.tmp"
        fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(meta, f, ensure_ascii=False)
        os.replace(tmp, self.root / f"{key}.json")

    def get(self, key: str) -> tuple[Path, dict[str, Any]] | None:
        """(the file, its meta) under `key`, or None when there is none (never was, deleted, swept)."""
        if not self.valid_key(key):
            return None
        try:
            meta = json.loads((self.root / f"{key}.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        path = self.root / str(meta.get("file", ""))
        if not path.is_file() or path.parent != self.root:
            return None
        return path, meta

    def delete(self, key: str) -> None:
        if not self.valid_key(key):
            return
        for p in self.root.glob(f"{key}.*"):
            p.unlink(missing_ok=True)

    def sweep(self, now: datetime) -> int:
        """Delete every kept file whose `expires` (ISO time in its meta) has passed; returns how many."""
        if not self.root.is_dir():
            return 0
        gone = 0
        for m in self.root.glob("*.json"):
            try:
                expires = datetime.fromisoformat(json.loads(m.read_text(encoding="utf-8"))["expires"])
            except (FileNotFoundError, ValueError, KeyError, TypeError):
                expires = None  # unreadable meta: its file can never be used, so it goes too
            if expires is None or expires <= now:
                self.delete(m.name[: -len(".json")])
                gone += 1
        return gone
