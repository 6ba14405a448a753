"""worker failures; a missed vote keeps when its vote closed

Revision ID: 5b2e8d41c7a3
Revises: 0ce4bc703325
Create Date: 2026-12-01 09:00:00.000000

``worker_failure`` holds the items the worker could not do, until they succeed.
``missed_vote.closed_at`` is the close of the vote that was missed, so that the
forfeiture window (a calendar year) is counted without reading the votes.
"""
from alembic import op
import sqlalchemy as sa

import ballot.timestamps


# revision identifiers, used by Alembic.
revision = '5b2e8d41c7a3'
down_revision = '0ce4bc703325'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('worker_failure',
    sa.Column('task', sa.String(length=40), nullable=False),
    sa.Column('item', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('first_failed_at', ballot.timestamps.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_failed_at', ballot.timestamps.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retry_at', ballot.timestamps.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('task', 'item', name=op.f('pk_worker_failure'))
    )
    with op.batch_alter_table('missed_vote', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', ballot.timestamps.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE missed_vote SET closed_at = (SELECT vote.closed_at FROM vote WHERE vote.id = missed_vote.vote_id)")
    with op.batch_alter_table('missed_vote', schema=None) as batch_op:
        batch_op.alter_column('closed_at', existing_type=ballot.timestamps.UTCDateTime(timezone=True), nullable=False)


def downgrade():
    with op.batch_alter_table('missed_vote', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
    op.drop_table('worker_failure')
