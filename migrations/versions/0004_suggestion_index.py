"""Drop the index on suggestions.need_id: the unique (need_id, achievement_id) index serves it.

Every suggestion a matching run writes updated both; one index less makes bulk upserts cheaper.

Revision ID: 0004_suggestion_index
Revises: 0003_listings
"""
from alembic import op


revision = '0004_suggestion_index'
down_revision = '0003_listings'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestions_need_id')


def downgrade():
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.create_index('ix_suggestions_need_id', ['need_id'], unique=False)
