"""Search and digest indexes: contact.phone_norm / email_norm, the customers' name text index, (owner, last contact)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 17:25:00

- `contact.phone_norm` (digits, `+86` dropped) and `contact.email_norm` (lower case), indexed: a search compares
  them with `=` instead of `lower(email)`, which read every contact. Backfilled from `phone` / `email` here; the
  model sets them on every save.
- The text index on `customer.name_norm` (as `textindex.install` makes it for create_all; written out here, as
  revisions import nothing from the app): SQLite FTS5 trigram table + triggers, filled here; PostgreSQL pg_trgm
  (the extension is created if missing: it is a trusted extension, the database owner may) and a GIN index. A
  later revision that rebuilds the customer table on SQLite (batch "move and copy") drops the triggers and must
  create them again.
- `ix_customer_owner_last` (owner_id, last_followup_at, id): each rep's customers behind their cadence, the least
  recently contacted first, read a few rows per rep by the morning digest.
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_norm', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('email_norm', sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f('ix_contact_email_norm'), ['email_norm'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_phone_norm'), ['phone_norm'], unique=False)

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_index('ix_customer_owner_last', ['owner_id', 'last_followup_at', 'id'], unique=False)

    conn = op.get_bind()
    backfill_contacts(conn)
    if conn.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        ops = conn.execute(sa.text("SELECT quote_ident(extnamespace::regnamespace::text) FROM pg_extension "
                                   "WHERE extname = 'pg_trgm'")).scalar_one()  # in whichever schema it lives
        op.execute(f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON customer USING gin (name_norm {ops}.gin_trgm_ops)")
        return
    op.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5("
               "name_norm, content='customer', content_rowid='id', tokenize='trigram')")
    for ddl in TRIGGERS.values():
        op.execute(ddl)
    op.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")


FTS, PG_INDEX = "customer_name_fts", "ix_customer_name_norm_trgm"
TRIGGERS = {
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


def normalize_phone(phone: str) -> str:
    digits = re.sub(r"[^\d+]", "", phone)
    return digits[3:] if digits.startswith("+86") else digits


def backfill_contacts(conn: sa.Connection, batch: int = 5000) -> None:
    """phone_norm / email_norm of the saved contacts as the model sets them on save (in Python: both engines
    alike), a batch of ids at a time."""
    last = 0
    while True:
        rows = conn.execute(sa.text("SELECT id, phone, email FROM contact WHERE id > :last AND "
                                    "(phone IS NOT NULL OR email IS NOT NULL) ORDER BY id LIMIT :n"),
                            {"last": last, "n": batch}).all()
        if not rows:
            return
        conn.execute(sa.text("UPDATE contact SET phone_norm = :p, email_norm = :e WHERE id = :id"),
                     [{"id": i, "p": normalize_phone(p) if p else None, "e": e.strip().lower() if e else None}
                      for i, p, e in rows])
        last = rows[-1][0]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")
    else:
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute(f"DROP TABLE IF EXISTS {FTS}")
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_owner_last')

    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_phone_norm'))
        batch_op.drop_index(batch_op.f('ix_contact_email_norm'))
        batch_op.drop_column('email_norm')
        batch_op.drop_column('phone_norm')

