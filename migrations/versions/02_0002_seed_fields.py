"""Seed the technology field taxonomy (技术领域).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FIELD_NAMES = (
    "新一代人工智能",
    "机器人与智能制造",
    "新材料",
    "生物医药",
    "数字医疗与健康",
    "IC装备",
    "新能源汽车",
    "航空装备",
    "高端装备",
    "新一代信息技术",
    "现代农业",
    "生态环保",
    "公共安全",
)

fields = sa.table(
    "fields",
    sa.column("name", sa.String),
    sa.column("position", sa.Integer),
)


def upgrade():
    op.bulk_insert(fields, [{"name": n, "position": i} for i, n in enumerate(FIELD_NAMES)])


def downgrade():
    op.execute(fields.delete().where(fields.c.name.in_(FIELD_NAMES)))
