"""ticket.emotion and ticket.cause: a complaint's customer emotion (激动/不满/平和/失望) and cause category

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 17:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('emotion', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('cause', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('cause')
        batch_op.drop_column('emotion')
