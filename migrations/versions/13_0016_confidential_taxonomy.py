"""Confidential parts of listings, hidden organizations, and retired fields.

Revision ID: 0016_confidential_taxonomy
Revises: 0004_suggestion_writes
"""
from alembic import op
import sqlalchemy as sa


revision = '0016_confidential_taxonomy'
down_revision = "0015_meetings_form_tokens"
branch_labels = None
depends_on = None


def upgrade():
    for table in ('achievements', 'needs'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('confidential', sa.JSON(), server_default='[]', nullable=False))
            batch_op.add_column(sa.Column('hide_organization', sa.Boolean(), server_default='0', nullable=False))
    with op.batch_alter_table('fields', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired', sa.Boolean(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('fields', schema=None) as batch_op:
        batch_op.drop_column('retired')
    for table in ('needs', 'achievements'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('hide_organization')
            batch_op.drop_column('confidential')
