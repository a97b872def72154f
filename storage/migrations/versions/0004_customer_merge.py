"""customer.merged_into_id, merged_at: a merged duplicate kept as a tombstone

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 16:44:06.384429

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not a batch (table copy) on SQLite: dropping `customer`, which every other table references, fails
    # while foreign keys are on; SQLite adds a NULL column with a REFERENCES clause in place.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE customer ADD COLUMN merged_into_id INTEGER REFERENCES customer (id)')
    else:
        op.add_column('customer', sa.Column('merged_into_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_customer_merged_into_id', 'customer', 'customer', ['merged_into_id'], ['id'])
    op.add_column('customer', sa.Column('merged_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_customer_merged_into_id', 'customer', ['merged_into_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_customer_merged_into_id', table_name='customer')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        if op.get_bind().dialect.name != 'sqlite':
            batch_op.drop_constraint('fk_customer_merged_into_id', type_='foreignkey')
        batch_op.drop_column('merged_at')
        batch_op.drop_column('merged_into_id')
