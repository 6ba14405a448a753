"""the outbox's messages being sent indexed, the index of every status dropped

Revision ID: 3f7a9c2e6b18
Revises: 6a1c3e8f2d47
Create Date: 2026-12-02 16:30:00.000000

The index on ``status`` held every message, and so took an entry at each of
a message's writes: queued, claimed, sent. Only ``stuck`` used it, to find
the few messages being sent among all those sent; the claims have had their
own index of the pending ones (4c8d2b7e5f19). A partial index of the
messages being sent serves ``stuck`` and holds only those, so a vote's
100,000 ballot links, queued as it opens, are written into two indexes (the
primary key and the pending one) where they were written into three (at
100,000, 0.3 s of PostgreSQL's CPU), and a sent message leaves both partial
indexes. The console's count of messages by status reads the table.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f7a9c2e6b18'
down_revision = '6a1c3e8f2d47'
branch_labels = None
depends_on = None

SENDING = sa.text("status = 'sending'")


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_status')
        batch_op.create_index('ix_outbox_message_sending', ['id'], unique=False,
                              postgresql_where=SENDING, sqlite_where=SENDING)


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_sending')
        batch_op.create_index('ix_outbox_message_status', ['status'], unique=False)
