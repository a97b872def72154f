"""Files that hold the CRM's data (the SQLite database with its -wal/-shm, the log) are private to the user that runs
the bot: folders it creates are 0700, the files 0600 whatever the umask. The database holds every customer's
contacts and the key that signs buttons.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_dir(path: str | Path) -> Path:
    """Create `path` (and its missing parents) as 0700; a folder that exists already is left as it is."""
    p = Path(path).expanduser()
    missing = [d for d in (p, *p.parents) if not d.exists()]
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:  # another process made it meanwhile: theirs, left as it is
            continue
        os.chmod(d, DIR_MODE)  # mkdir's mode passes through the umask
    return p


def private_file(path: str | Path) -> Path:
    """Create `path` empty as 0600 unless it exists; an existing file of ours is narrowed to 0600 too."""
    p = Path(path).expanduser()
    private_dir(p.parent)
    os.close(os.open(p, os.O_CREAT | os.O_WRONLY | os.O_APPEND, FILE_MODE))
    st = p.stat()
    if st.st_uid == os.getuid() and st.st_mode & 0o777 != FILE_MODE:
        os.chmod(p, FILE_MODE)
    return p


def private_sqlite(path: str | Path) -> Path:
    """The database file, created 0600 before SQLite opens it: SQLite gives its -wal and -shm files the database
    file's mode. Side files left by an earlier run are narrowed as well."""
    p = private_file(path)
    for suffix in SQLITE_SIDE_FILES:
        side = p.with_name(p.name + suffix)
        if side.exists():
            private_file(side)
    return p
