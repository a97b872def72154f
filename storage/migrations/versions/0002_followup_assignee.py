"""followup.assignee_id: who owes the next follow-up, apart from its author

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 05:00:00

`followup.staff_id` stays the author (跟进人), never changed again. The new `assignee_id` is who owes the
next follow-up. Backfill: an open follow-up (a next date, not done, not deleted) is owed by the customer's
owner, whom the reminders went to until now (none for a customer in the pool); any other by its author.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = ("CASE WHEN done_at IS NULL AND next_followup_at IS NOT NULL AND deleted_at IS NULL "
            "THEN (SELECT owner_id FROM customer WHERE customer.id = followup.customer_id) "
            "ELSE staff_id END")


def upgrade() -> None:
    with op.batch_alter_table('followup', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_followup_assignee_id_staff', 'staff', ['assignee_id'], ['id'])
        batch_op.create_index('ix_followup_assignee_next', ['assignee_id', 'next_followup_at'], unique=False)
    op.execute(f"UPDATE followup SET assignee_id = {BACKFILL}")


def downgrade() -> None:
    with op.batch_alter_table('followup', schema=None) as batch_op:
        batch_op.drop_index('ix_followup_assignee_next')
        batch_op.drop_constraint('fk_followup_assignee_id_staff', type_='foreignkey')
        batch_op.drop_column('assignee_id')
