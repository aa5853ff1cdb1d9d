"""The two kinds of listing, achievements and needs, and the labels people read."""

from dataclasses import dataclass

from sqlalchemy import Table

from matchmaker.core.exceptions import NotFound
from matchmaker.listings.models import Achievement, Need, achievement_terms, need_terms


@dataclass(frozen=True)
class Kind:
    name: str
    model: type
    terms: Table
    role: str  # the poster role
    org_kinds: tuple[str, ...]
    label: str
    plural: str


KINDS = {
    "achievement": Kind(
        "achievement",
        Achievement,
        achievement_terms,
        "institute",
        ("university", "institute"),
        "科技成果",
        "achievements",
    ),
    "need": Kind("need", Need, need_terms, "enterprise", ("enterprise",), "技术需求", "needs"),
}
STATUS_LABELS = {
    "draft": "草稿",
    "pending": "待审核",
    "returned": "退回修改",
    "published": "已发布",
    "rejected": "未通过",
    "closed": "已关闭",
}
ACTION_LABELS = {
    "created": "创建",
    "edited": "修改",
    "submitted": "提交审核",
    "withdrawn": "撤回",
    "closed": "关闭",
    "published": "审核通过并发布",
    "returned": "退回修改",
    "rejected": "审核不通过",
    "imported": "批量导入",
}


def kind_of(name: str) -> Kind:
    """Return the kind named `achievement` or `need` (plural accepted)."""
    for kind in KINDS.values():
        if name in (kind.name, kind.plural):
            return kind
    raise NotFound("未知的信息类型")
