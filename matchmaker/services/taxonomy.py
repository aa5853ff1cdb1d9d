"""The technology field taxonomy (技术领域)."""

from sqlalchemy import select

from matchmaker.extensions import db
from matchmaker.models import Field

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


def ensure_fields() -> None:
    """Add any missing top-level field of the seeded taxonomy."""
    existing = set(db.session.scalars(select(Field.name)))
    for position, name in enumerate(FIELD_NAMES):
        if name not in existing:
            db.session.add(Field(name=name, position=position))
    db.session.commit()


def field_by_name(name: str, create: bool = False) -> Field | None:
    """Find a field by its name, creating it (after the seeded ones) when asked to."""
    name = name.strip()
    field = db.session.scalar(select(Field).where(Field.name == name))
    if field is None and create and name:
        field = Field(name=name, position=1000)
        db.session.add(field)
        db.session.flush()
    return field


def all_fields() -> list[Field]:
    return list(db.session.scalars(select(Field).order_by(Field.position, Field.id)))
