"""`crm-bot demo`: a fresh SQLite database full of realistic data, then the console as a sales rep.

The demo always uses its own SQLite file (default `./data/demo.db`, deleted first), whatever DATABASE_URL
says, so the README's first command works on a new machine with no configuration.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import select

from bot import app as app_mod
from bot.demo_words import DEFAULT_USER
from handlers.i18n import t
from storage.db import session_scope, utcnow
from storage.files import private_dir
from storage.models import Staff

TIPS = {
    "rep": "/followups, /customer 科技, /opp list",
    "manager": "/approvals, /report, /customer 科技, /pool",
    "agent": "/tickets mine, /tickets",
    "supervisor": "/tickets, /report sla",
    "admin": "/staff, /report, /export customers",
}


def _remove(db: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = db.with_name(db.name + suffix)
        if p.exists():
            p.unlink()


def create(db: str | Path) -> tuple[app_mod.App, dict[str, int]]:
    """Delete `db` and build a new demo database there. Returns the app and the counts by kind."""
    from bot.demo_data import generate

    path = Path(db).expanduser()
    private_dir(path.parent)
    _remove(path)
    a = app_mod.build(database_url=f"sqlite:///{path}", log_file=str(path.with_suffix(".log")))
    with session_scope(a.engine) as s:
        counts = generate(s, now=utcnow(), settings=a.settings, channels=a.core.channels)
    return a, counts


def hint(a: app_mod.App, user: str) -> str:
    with session_scope(a.engine) as s:
        st = s.scalar(select(Staff).where(Staff.name == user))
    if st is None:
        return f"No staff member {user!r} in the demo. Try: crm-bot demo --as {DEFAULT_USER}"
    lang = st.lang or "en"
    tips = TIPS.get(st.role, TIPS["rep"])
    return t(lang, "console.demo_hint", name=st.name, role=t(lang, f"enum.role.{st.role}"), team=st.team or "-",
             tips=tips, other=t(lang, "console.demo_other"))


def run(*, db: str, user: str | None, console: bool) -> int:
    user = user or DEFAULT_USER
    a, counts = create(db)
    summary = ", ".join(f"{n} {k}" for k, n in counts.items())
    print(f"demo database {db}: {summary}", file=sys.stderr if console else sys.stdout)
    if not console:
        print(f"open it with: DATABASE_URL=sqlite:///{db} crm-bot console --as {user}")
        return 0
    print(hint(a, user))
    app_mod.warm_up(a.settings)
    from bot.console import repl

    return repl.run(a.core, user)
