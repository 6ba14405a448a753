"""a vote's record stored out of line without compression (PostgreSQL)

Revision ID: 5b2e7d9c4a61
Revises: 4c8d2b7e5f19
Create Date: 2026-12-01 09:30:00.000000

The record of a counted vote holds every ballot's anonymous token, receipt
and contents: about 215 bytes a ballot, mostly random letters. PostgreSQL
compressed it with pglz as the closing transaction wrote it, about 1 s of the
server's CPU for 100,000 ballots, to save a quarter of its size. Stored
EXTERNAL, it is written as it is (0.1 s). SQLite compresses nothing.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5b2e7d9c4a61'
down_revision = '4c8d2b7e5f19'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE vote ALTER COLUMN record SET STORAGE EXTERNAL')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE vote ALTER COLUMN record SET STORAGE EXTENDED')
