"""Make the matcher's bulk writes of suggestions cheaper: one index and one foreign key less.

- ix_suggestions_need_id: the unique (need_id, achievement_id) index serves every lookup by need.
- fk_suggestions_run_id_match_runs: run_id only records which run last wrote a pair, and runs
  are never deleted. Its check locked the one run row once per written pair, in every chunk
  at once (a sixth of each chunk's write time, measured).

Revision ID: 0004_suggestion_writes
Revises: 0003_listings
"""
from alembic import op


revision = '0004_suggestion_writes'
down_revision = '0003_listings'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_index('ix_suggestions_need_id')
        batch_op.drop_constraint('fk_suggestions_run_id_match_runs', type_='foreignkey')


def downgrade():
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.create_foreign_key(
            'fk_suggestions_run_id_match_runs', 'match_runs', ['run_id'], ['id'],
            ondelete='SET NULL',
        )
        batch_op.create_index('ix_suggestions_need_id', ['need_id'], unique=False)
