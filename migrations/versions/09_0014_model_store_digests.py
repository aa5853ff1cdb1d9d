"""Models in the database for workers without a shared disk, digests sent once per period,
and the reconciler's own re-queue time beside the worker's heartbeat.

Revision ID: 0014_model_store_digests
Revises: 0004_suggestion_writes
"""
import sqlalchemy as sa
from alembic import op


revision = '0014_model_store_digests'
down_revision = "0017_challenges"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'stored_models',
        sa.Column('version', sa.String(length=120), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('parts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('version', name=op.f('pk_stored_models')),
    )
    op.create_table(
        'stored_model_parts',
        sa.Column('version', sa.String(length=120), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ['version'], ['stored_models.version'],
            name=op.f('fk_stored_model_parts_version_stored_models'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('version', 'position', name=op.f('pk_stored_model_parts')),
    )
    op.create_table(
        'digests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('recipient_kind', sa.String(length=20), nullable=False),
        sa.Column('recipient_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=20), nullable=False),
        sa.Column('emails', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "recipient_kind IN ('user', 'organization')", name=op.f('ck_digests_recipient_kind')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_digests')),
        sa.UniqueConstraint(
            'recipient_kind', 'recipient_id', 'period',
            name=op.f('uq_digests_recipient_kind_recipient_id_period'),
        ),
    )
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requeued_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.drop_column('requeued_at')
    op.drop_table('digests')
    op.drop_table('stored_model_parts')
    op.drop_table('stored_models')
