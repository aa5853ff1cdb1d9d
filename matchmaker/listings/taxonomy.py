"""The technology field taxonomy (技术领域)."""

from sqlalchemy import delete, func, select, update

from matchmaker.accounts.fields import all_fields, field_choices  # noqa: F401  (re-exported)
from matchmaker.accounts.models import Field, broker_fields
from matchmaker.core.exceptions import Conflict, NotFound, ServiceError
from matchmaker.core.extensions import db
from matchmaker.listings.models import Achievement, Need, achievement_fields, need_fields

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
    "检验检测",
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


# --- administration by staff ---------------------------------------------------------------------

MAX_NAME = 60
# (association table, its listing column, the listing model)
_LINKS = (
    (achievement_fields, achievement_fields.c.achievement_id, Achievement),
    (need_fields, need_fields.c.need_id, Need),
    (broker_fields, broker_fields.c.user_id, None),
)


def _name(raw) -> str:
    if not isinstance(raw, str):
        raise ServiceError("请填写领域名称", field="name")
    name = raw.replace("\x00", "").strip()
    if not name:
        raise ServiceError("请填写领域名称", field="name")
    if len(name) > MAX_NAME:
        raise ServiceError(f"领域名称不能超过{MAX_NAME}个字", field="name")
    if db.session.scalar(select(Field.id).where(Field.name == name)) is not None:
        raise ServiceError(f"已有名为“{name}”的领域", field="name")
    return name


def _field(field_id, key: str = "field_id") -> Field:
    try:
        number = int(field_id)
    except (TypeError, ValueError):
        number = 0
    field = db.session.get(Field, number) if 0 < number < 2**31 else None
    if field is None:
        raise (
            NotFound("技术领域不存在")
            if key == "field_id"
            else ServiceError("请选择一个现有的技术领域", field=key)
        )
    return field


def field_usage() -> dict[int, dict]:
    """How many achievements, needs and brokers use each field."""
    usage: dict[int, dict] = {}
    for (table, column, _), key in zip(_LINKS, ("achievements", "needs", "brokers"), strict=True):
        rows = db.session.execute(
            select(table.c.field_id, func.count(column)).group_by(table.c.field_id)
        )
        for field_id, count in rows:
            usage.setdefault(field_id, {"achievements": 0, "needs": 0, "brokers": 0})[key] = count
    return usage


def add_field(name) -> Field:
    """Add a top-level field after the others."""
    last = db.session.scalar(select(func.max(Field.position))) or 0
    field = Field(name=_name(name), position=last + 1)
    db.session.add(field)
    db.session.commit()
    return field


def rename_field(field_id, name) -> Field:
    field = _field(field_id)
    field.name = _name(name)
    db.session.commit()
    return field


def _move_links(source: Field, target: Field) -> int:
    """Point every listing and broker of `source` at `target`; returns listings moved."""
    moved = 0
    for table, column, model in _LINKS:
        has_target = select(column).where(table.c.field_id == target.id)
        ids = list(db.session.scalars(select(column).where(table.c.field_id == source.id)))
        # Rows that already carry the target just lose the source; the rest are re-pointed.
        db.session.execute(
            delete(table).where(table.c.field_id == source.id, column.in_(has_target))
        )
        db.session.execute(
            update(table).where(table.c.field_id == source.id).values(field_id=target.id)
        )
        if model is not None and ids:
            # Fields are matchable text: a new revision makes cached tokens stale.
            db.session.execute(
                update(model).where(model.id.in_(ids)).values(revision=model.revision + 1)
            )
            moved += len(ids)
    return moved


def merge_fields(source_id, target_id) -> int:
    """Merge one field into another: its listings and brokers move along, the name retires."""
    source = _field(source_id)
    target = _field(target_id, "target_id")
    if source.id == target.id:
        raise ServiceError("不能合并到同一个领域", field="target_id")
    if target.retired:
        raise ServiceError("目标领域已停用", field="target_id")
    moved = _move_links(source, target)
    source.retired = True
    db.session.commit()
    db.session.expire_all()
    return moved


def retire_field(field_id, target_id=None) -> int:
    """Stop offering a field; listings that use it move to `target_id` (required if any)."""
    field = _field(field_id)
    if field.retired:
        raise Conflict(f"“{field.name}”已经停用")
    usage = field_usage().get(field.id, {})
    if target_id in (None, ""):
        if usage.get("achievements") or usage.get("needs"):
            raise ServiceError(
                "该领域下还有成果或需求，请选择要将它们移到的领域", field="target_id"
            )
        field.retired = True
        db.session.commit()
        return 0
    return merge_fields(field.id, target_id)


def restore_field(field_id) -> Field:
    field = _field(field_id)
    field.retired = False
    db.session.commit()
    return field
