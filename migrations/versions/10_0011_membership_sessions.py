"""Accounts: membership approval, organization administrators, session versions; no lockout table.

- users.membership: people who ask to join an organization wait for its administrator or staff
  (existing accounts stay approved).
- users.is_org_admin: who approves them; the earliest member of each organization becomes one.
- users.session_version: part of the login id in session and remember cookies; logout, a
  password change or staff bump it and every older cookie of that user stops working.
- login_attempts: failed logins are throttled by Flask-Limiter in Redis now.

Revision ID: 0011_membership_sessions
Revises: 0004_suggestion_writes
"""
import sqlalchemy as sa
from alembic import op


revision = '0011_membership_sessions'
down_revision = "0014_model_store_digests"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'membership', sa.String(length=20), server_default='approved', nullable=False))
        batch_op.add_column(sa.Column(
            'is_org_admin', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column(
            'session_version', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_check_constraint(
            'membership', "membership IN ('approved', 'pending', 'rejected')")
    # Every organization that has members gets its earliest one as administrator.
    op.execute(
        "UPDATE users SET is_org_admin = true WHERE id IN ("
        " SELECT min(id) FROM users WHERE organization_id IS NOT NULL GROUP BY organization_id)"
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_remote_addr')
        batch_op.drop_index('ix_login_attempts_login')
        batch_op.drop_index('ix_login_attempts_at')
    op.drop_table('login_attempts')


def downgrade():
    op.create_table(
        'login_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('login', sa.String(length=60), nullable=False),
        sa.Column('remote_addr', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts')),
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempts_at', ['at'], unique=False)
        batch_op.create_index('ix_login_attempts_login', ['login'], unique=False)
        batch_op.create_index('ix_login_attempts_remote_addr', ['remote_addr'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('ck_users_membership', type_='check')
        batch_op.drop_column('session_version')
        batch_op.drop_column('is_org_admin')
        batch_op.drop_column('membership')
