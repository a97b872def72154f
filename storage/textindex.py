"""The text index on customers' normalised names, so that "contains this fragment" does not read every customer.

- SQLite: an FTS5 table with the trigram tokenizer (`customer_name_fts`, SQLite ≥ 3.34) over `customer.name_norm`,
  an external-content index (the text stays in `customer`; rowid = customer id) kept in step by three triggers
  on `customer` (insert, update of `name_norm`, delete).
- PostgreSQL: a pg_trgm GIN index on `customer.name_norm`, which `LIKE '%…%'` uses by itself.

A trigram index finds fragments of 3 characters or more; shorter ones (`云栖`, `ab`) are matched by a scan of the
customers, as before. `install(conn)` creates what is missing (idempotent) and fills the SQLite index when its
triggers had to be (re)made: `create_all` runs it (an `after_create` listener on the customer table), and so does
adopting a pre-migration database; migration 0004 makes the same objects (written out: revisions import nothing). A later migration that rebuilds the customer table on SQLite (Alembic's batch "move and copy")
drops its triggers: it must call `install` again.

Normalised keys that searches compare with `=` on their indexes live here too, so the models, the migration and
the lookups agree on them: `normalize_phone` (digits, `+` kept, `+86` dropped) and `normalize_email` (lower case).
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.engine import Connection

FTS = "customer_name_fts"
MIN_FRAGMENT = 3  # the shortest fragment a trigram index can look up
_TRIGGERS = {
    "customer_name_fts_ai": f"""CREATE TRIGGER customer_name_fts_ai AFTER INSERT ON customer BEGIN
  INSERT INTO {FTS}(rowid, name_norm) VALUES (new.id, new.name_norm);
END""",
    "customer_name_fts_ad": f"""CREATE TRIGGER customer_name_fts_ad AFTER DELETE ON customer BEGIN
  INSERT INTO {FTS}({FTS}, rowid, name_norm) VALUES ('delete', old.id, old.name_norm);
END""",
    "customer_name_fts_au": f"""CREATE TRIGGER customer_name_fts_au AFTER UPDATE OF name_norm ON customer BEGIN
  INSERT INTO {FTS}({FTS}, rowid, name_norm) VALUES ('delete', old.id, old.name_norm);
  INSERT INTO {FTS}(rowid, name_norm) VALUES (new.id, new.name_norm);
END""",
}
PG_INDEX = "ix_customer_name_norm_trgm"


def normalize_phone(phone: str) -> str:
    """Digits only (a leading `+` kept), without China's `+86`: `+86 138-0000-0000` → `13800000000`."""
    digits = re.sub(r"[^\d+]", "", phone)
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits


def normalize_email(email: str) -> str:
    return email.strip().lower()


def backfill_contacts(conn: Connection, batch: int = 5000) -> None:
    """Set every saved contact's phone_norm / email_norm as the model does on save (migration 0004, adopting a
    pre-migration database), a batch of ids at a time; in Python, so both engines normalise alike."""
    last = 0
    while True:
        rows = conn.execute(text("SELECT id, phone, email FROM contact WHERE id > :last AND "
                                 "(phone IS NOT NULL OR email IS NOT NULL) ORDER BY id LIMIT :n"),
                            {"last": last, "n": batch}).all()
        if not rows:
            return
        conn.execute(text("UPDATE contact SET phone_norm = :p, email_norm = :e WHERE id = :id"),
                     [{"id": i, "p": normalize_phone(p) if p else None, "e": normalize_email(e) if e else None}
                      for i, p, e in rows])
        last = rows[-1][0]


def install(conn: Connection) -> None:
    """Create the text index where it is missing (either engine); on SQLite fill it when its triggers were
    missing (a new index, or a customer table made again)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        ops = conn.exec_driver_sql("SELECT quote_ident(extnamespace::regnamespace::text) FROM pg_extension "
                                   "WHERE extname = 'pg_trgm'").scalar_one()  # in whichever schema it lives
        conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON customer USING gin "
                             f"(name_norm {ops}.gin_trgm_ops)")
        return
    conn.exec_driver_sql(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5("
                         "name_norm, content='customer', content_rowid='id', tokenize='trigram')")
    have = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    missing = [ddl for name, ddl in _TRIGGERS.items() if name not in have]
    for ddl in missing:
        conn.exec_driver_sql(ddl)
    if missing:
        conn.exec_driver_sql(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's `include_name`: the text index is not in the models (its FTS5 table and shadow tables, its
    pg_trgm index); comparing the schema with the models leaves it out."""
    if type_ == "table":
        return not (name or "").startswith(FTS)
    return not (type_ == "index" and name == PG_INDEX)


def fts_phrase(fragment: str) -> str:
    """`fragment` as an FTS5 phrase (matched as a substring by the trigram tokenizer), quotes doubled."""
    return '"' + fragment.replace('"', '""') + '"'
