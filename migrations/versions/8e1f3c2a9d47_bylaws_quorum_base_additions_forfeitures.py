"""the PSF bylaws: quorum base flags, voters added to open votes, a forfeiture per year

Revision ID: 8e1f3c2a9d47
Revises: 5b2e8d41c7a3
Create Date: 2026-12-01 12:00:00.000000

- ``electorate_entry.quorum_only_if_voting``: counted in the quorum's base only if
  it votes (bylaws 4.8: Fellows), fixed when the vote opens.
- ``electorate_addition``: rights an administrator added to an open vote, with the reason.
- ``forfeiture`` is keyed by right and year: under a calendar-year window a right
  forfeits for the rest of a year, and may forfeit again in a later year (once a year).
"""
from alembic import op
import sqlalchemy as sa

import ballot.timestamps


# revision identifiers, used by Alembic.
revision = '8e1f3c2a9d47'
down_revision = '5b2e8d41c7a3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('electorate_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quorum_only_if_voting', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table('electorate_addition',
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('right_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('added_by', sa.String(length=320), nullable=False),
    sa.Column('added_at', ballot.timestamps.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['right_id'], ['voting_right.id'], name=op.f('fk_electorate_addition_right_id_voting_right')),
    sa.ForeignKeyConstraint(['vote_id'], ['vote.id'], name=op.f('fk_electorate_addition_vote_id_vote')),
    sa.PrimaryKeyConstraint('vote_id', 'right_id', name=op.f('pk_electorate_addition'))
    )
    with op.batch_alter_table('forfeiture', schema=None) as batch_op:
        batch_op.add_column(sa.Column('year', sa.Integer(), nullable=True))
    # Until now a right forfeited once per period: its forfeiture runs in the period's year.
    op.execute("UPDATE forfeiture SET year = (SELECT p.year FROM voting_right r JOIN eligibility_period p "
               "ON p.id = r.period_id WHERE r.id = forfeiture.right_id)")
    with op.batch_alter_table('forfeiture', schema=None) as batch_op:
        batch_op.alter_column('year', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint('pk_forfeiture', type_='primary')
        batch_op.create_primary_key('pk_forfeiture', ['right_id', 'year'])


def downgrade():
    # Keeps each right's first forfeiture: the earlier schema has one per right.
    op.execute("DELETE FROM forfeiture WHERE EXISTS (SELECT 1 FROM forfeiture f WHERE f.right_id = "
               "forfeiture.right_id AND f.year < forfeiture.year)")
    with op.batch_alter_table('forfeiture', schema=None) as batch_op:
        batch_op.drop_constraint('pk_forfeiture', type_='primary')
        batch_op.create_primary_key('pk_forfeiture', ['right_id'])
        batch_op.drop_column('year')
    op.drop_table('electorate_addition')
    with op.batch_alter_table('electorate_entry', schema=None) as batch_op:
        batch_op.drop_column('quorum_only_if_voting')
