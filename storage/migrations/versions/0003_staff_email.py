"""staff.email: matched to a Slack user by email (`users.lookupByEmail`) instead of typing a Slack id

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 06:24:40.398313

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f('ix_staff_email'), ['email'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_email'))
        batch_op.drop_column('email')
