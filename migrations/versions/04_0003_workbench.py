"""Pair events say what kind of work they record; the database refuses inconsistent pair states.

Revision ID: 0003_workbench
Revises: 0003_jobs
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_workbench"
down_revision = "0003_jobs"
branch_labels = None
depends_on = None

PAIR_STATES = (
    "suggested", "recommended", "accepted", "declined", "meeting_scheduled",
    "met", "intention", "contract", "dismissed", "closed",
)
EVENT_KINDS = ("transition", "answer", "note", "claim", "unclaim", "snooze", "reassign", "propose")


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    with op.batch_alter_table("pair_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=12), server_default="transition", nullable=False)
        )
        batch_op.create_check_constraint("kind", _in("kind", EVENT_KINDS))
        batch_op.create_check_constraint("to_state", _in("to_state", PAIR_STATES))
    with op.batch_alter_table("suggestions", schema=None) as batch_op:
        batch_op.create_check_constraint(
            "engaged_answers",
            "state NOT IN ('accepted', 'meeting_scheduled', 'met', 'intention', 'contract') OR "
            "(COALESCE(need_answer, '') = 'interested' "
            "AND COALESCE(achievement_answer, '') = 'interested')",
        )
        batch_op.create_check_constraint(
            "declined_answer",
            "state <> 'declined' OR COALESCE(need_answer, '') = 'declined' "
            "OR COALESCE(achievement_answer, '') = 'declined'",
        )


def downgrade():
    with op.batch_alter_table("suggestions", schema=None) as batch_op:
        batch_op.drop_constraint("ck_suggestions_declined_answer", type_="check")
        batch_op.drop_constraint("ck_suggestions_engaged_answers", type_="check")
    with op.batch_alter_table("pair_events", schema=None) as batch_op:
        batch_op.drop_constraint("ck_pair_events_to_state", type_="check")
        batch_op.drop_constraint("ck_pair_events_kind", type_="check")
        batch_op.drop_column("kind")
