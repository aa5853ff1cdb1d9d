"""Matching jobs: one full run at a time (exclusive slot), staff vocabulary entries.

Revision ID: 0003_jobs
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_jobs"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("match_runs") as batch:
        batch.add_column(sa.Column("exclusive_slot", sa.String(length=20), nullable=True))
        batch.create_unique_constraint("uq_match_runs_exclusive_slot", ["exclusive_slot"])
    op.create_table(
        "vocabulary_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("word", sa.String(length=40), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('term', 'stopword')", name=op.f("ck_vocabulary_entries_kind")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_vocabulary_entries_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vocabulary_entries")),
        sa.UniqueConstraint("kind", "word", name=op.f("uq_vocabulary_entries_kind_word")),
    )


def downgrade():
    op.drop_table("vocabulary_entries")
    with op.batch_alter_table("match_runs") as batch:
        batch.drop_constraint("uq_match_runs_exclusive_slot", type_="unique")
        batch.drop_column("exclusive_slot")
