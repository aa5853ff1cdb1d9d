"""Keep the poster's order of declared fields, staff synonym groups, cross-field pairs.

- achievement_fields.position / need_fields.position: the order the poster chose (0 = first);
  existing rows are numbered by field id, the order they were shown in until now.
- synonym_groups: words staff declare equivalent, part of the model version like other words.
- suggestions.cross_field: both sides declare fields and share none (shown as 跨领域).

Revision ID: 0010_field_order_synonyms
Revises: 0004_suggestion_writes
"""
import sqlalchemy as sa
from alembic import op


revision = '0010_field_order_synonyms'
down_revision = "0011_membership_sessions"
branch_labels = None
depends_on = None

LINKS = (('achievement_fields', 'achievement_id'), ('need_fields', 'need_id'))


def upgrade():
    for table, owner in LINKS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('position', sa.Integer(), server_default='0', nullable=False)
            )
        op.execute(
            f'UPDATE {table} SET position = (SELECT COUNT(*) FROM {table} AS earlier '
            f'WHERE earlier.{owner} = {table}.{owner} AND earlier.field_id < {table}.field_id)'
        )
    op.create_table(
        'synonym_groups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('words', sa.String(length=400), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['users.id'], name=op.f('fk_synonym_groups_created_by_id_users')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_synonym_groups')),
        sa.UniqueConstraint('words', name=op.f('uq_synonym_groups_words')),
    )
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('cross_field', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('suggestions', schema=None) as batch_op:
        batch_op.drop_column('cross_field')
    op.drop_table('synonym_groups')
    for table, _ in reversed(LINKS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('position')
