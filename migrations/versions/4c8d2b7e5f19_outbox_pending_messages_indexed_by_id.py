"""the outbox's pending messages indexed in id order

Revision ID: 4c8d2b7e5f19
Revises: 1da8e8318342
Create Date: 2026-12-01 05:30:00.000000

A worker claims the oldest due messages: pending, in id order, a batch at a
time. With only the index on ``status``, each claim read and sorted every
pending message (5 ms a claim with 14,000 waiting, on PostgreSQL), or walked
the primary key past every message already sent. A partial index of the
pending messages' ids hands a claim its batch in order, and holds only what
waits to be sent. The claim writes ``status = 'pending'`` into its statement,
so that the database may use it under any cached plan.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4c8d2b7e5f19'
down_revision = '1da8e8318342'
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_pending', ['id'], unique=False,
                              postgresql_where=PENDING, sqlite_where=PENDING)


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_pending')
