"""Meetings with an online link, a reason for changes and a calendar sequence; a fair's minimum
meeting score; one-time form tokens that make create forms idempotent.

Revision ID: 0015_meetings_form_tokens
Revises: 0004_suggestion_writes
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_meetings_form_tokens"
down_revision = "0010_field_order_synonyms"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("online_url", sa.String(length=300), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("change_reason", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("sequence", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("fairs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("min_score", sa.Float(), nullable=True))
    op.create_table(
        "form_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=80), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("result_url", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_form_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_tokens")),
        sa.UniqueConstraint("token", name=op.f("uq_form_tokens_token")),
    )
    with op.batch_alter_table("form_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_form_tokens_created_at"), ["created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("form_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_form_tokens_created_at"))
    op.drop_table("form_tokens")
    with op.batch_alter_table("fairs", schema=None) as batch_op:
        batch_op.drop_column("min_score")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("sequence")
        batch_op.drop_column("change_reason")
        batch_op.drop_column("online_url")
