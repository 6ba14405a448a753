"""sessions end on the server; "send me my links again" is queued

Revision ID: 9e4f6a2c1d35
Revises: 8e1f3c2a9d47
Create Date: 2026-12-02 09:00:00.000000

``administrator.session_generation``: every console session carries the
generation it was made in; signing out, disabling and a password change move
the account to the next one, ending every session made before.
``link_request``: an address asked for on "send me my links again", until the
worker has looked it up and queued the links (then the row is deleted).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9e4f6a2c1d35'
down_revision = '8e1f3c2a9d47'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('link_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_request'))
    )
    with op.batch_alter_table('administrator', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('administrator', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
    op.drop_table('link_request')
