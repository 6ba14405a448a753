"""trustees hold votes' keys k of n

Revision ID: 1da8e8318342
Revises: 9e4f6a2c1d35
Create Date: 2026-12-01 01:13:44.472107

``trustee`` registers trustees by their public keys. ``vote_trustee`` names a
vote's trustees in order and, from its opening, holds each one's sealed share
and commitment, then their answer (still sealed) until the count.
``vote.trustee_threshold`` is k (NULL: the sealing key protects the vote);
``vote.collection_key`` and ``wrapped_collection_key`` exist from the close of
a vote with trustees until its count. A vote's status may now be "counting".
"""
from alembic import op
import sqlalchemy as sa

import ballot.timestamps


# revision identifiers, used by Alembic.
revision = '1da8e8318342'
down_revision = '9e4f6a2c1d35'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('trustee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('fingerprint', sa.String(length=79), nullable=False),
    sa.Column('registered_at', ballot.timestamps.UTCDateTime(timezone=True), nullable=False),
    sa.Column('disabled_at', ballot.timestamps.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trustee')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_trustee_fingerprint')),
    sa.UniqueConstraint('public_key', name=op.f('uq_trustee_public_key'))
    )
    op.create_table('vote_trustee',
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('trustee_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=79), nullable=False),
    sa.Column('sealed_share', sa.LargeBinary(), nullable=True),
    sa.Column('commitment', sa.LargeBinary(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_at', ballot.timestamps.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['trustee_id'], ['trustee.id'], name=op.f('fk_vote_trustee_trustee_id_trustee')),
    sa.ForeignKeyConstraint(['vote_id'], ['vote.id'], name=op.f('fk_vote_trustee_vote_id_vote')),
    sa.PrimaryKeyConstraint('vote_id', 'position', name=op.f('pk_vote_trustee')),
    sa.UniqueConstraint('vote_id', 'trustee_id', name=op.f('uq_vote_trustee_vote_id'))
    )
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trustee_threshold', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('collection_key', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('wrapped_collection_key', sa.LargeBinary(), nullable=True))



def downgrade():
    with op.batch_alter_table('vote', schema=None) as batch_op:
        batch_op.drop_column('wrapped_collection_key')
        batch_op.drop_column('collection_key')
        batch_op.drop_column('trustee_threshold')

    op.drop_table('vote_trustee')
    op.drop_table('trustee')
