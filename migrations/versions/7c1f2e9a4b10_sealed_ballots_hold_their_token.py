"""sealed ballots hold their token inside the seal

Revision ID: 7c1f2e9a4b10
Revises: 3d64a6e9db4e
Create Date: 2026-11-25 13:10:00

The ballot box no longer stores a ballot's token and receipt in clear: both
travel inside the sealed ballot, under a random row id, so a copy of the
database taken while a vote is open cannot be matched to the published record.
The table is rebuilt; ballots of votes still open when this migration runs
could not be re-sealed without the votes' keys, so none may be open.
"""
from alembic import op
import sqlalchemy as sa


revision = '7c1f2e9a4b10'
down_revision = '3d64a6e9db4e'
branch_labels = None
depends_on = None


def _refuse_open_votes():
    open_votes = op.get_bind().execute(sa.text("SELECT count(*) FROM vote WHERE status = 'open'")).scalar()
    if open_votes:
        raise RuntimeError("close or cancel every open vote before this migration (the ballot box is rebuilt)")


def upgrade():
    _refuse_open_votes()
    op.drop_table('sealed_ballot')
    op.create_table('sealed_ballot',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['vote_id'], ['vote.id'], name=op.f('fk_sealed_ballot_vote_id_vote')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sealed_ballot')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('sealed_ballot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sealed_ballot_vote_id'), ['vote_id'], unique=False)


def downgrade():
    _refuse_open_votes()
    op.drop_table('sealed_ballot')
    op.create_table('sealed_ballot',
    sa.Column('token', sa.String(length=100), nullable=False),
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('receipt', sa.String(length=40), nullable=False),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['vote_id'], ['vote.id'], name=op.f('fk_sealed_ballot_vote_id_vote')),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_sealed_ballot')),
    sa.UniqueConstraint('receipt', name=op.f('uq_sealed_ballot_receipt')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('sealed_ballot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sealed_ballot_vote_id'), ['vote_id'], unique=False)
