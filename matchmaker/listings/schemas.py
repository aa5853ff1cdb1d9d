"""What a listing accepts, declared once: posting (form, API, import row) and search filters.

`forms.check_listing`, the JSON API, the spreadsheet/JSONL import and `/api/v1/openapi.json` all
read these models; a limit or a Chinese message changes here and nowhere else.
"""

import re
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from matchmaker.accounts.models import Field
from matchmaker.core.extensions import db
from matchmaker.core.schemas import (
    Schema,
    amount,
    choices,
    clean_text,
    day,
    declare,
    fail,
    flag,
    split_items,
    text,
)
from matchmaker.core.validators import normalize_patent, patent_error
from matchmaker.listings.models import MATURITY_TRL, TRANSFER_MODES

MAX_AMOUNT = Decimal("99999999.99")  # 万元; fits Numeric(12, 2)
MAX_KEYWORDS = 10
MAX_PATENTS = 20
MAX_FIELDS = 5
MAX_DESCRIPTION = 10000
_PHONE_RE = re.compile(r"^[0-9+\-() 转]{5,40}$")
# Parts a poster may keep for parties of a recommended pair, brokers and staff.
CONFIDENTIAL_PARTS = {
    "description": "详细介绍",
    "price": "价格/预算",
    "patents": "专利与附件",
    "contact": "联系方式",
}
PRICE_MIN, BUDGET_MIN = "价格下限（万元）", "预算下限（万元）"


def _keywords(value, info) -> list[str]:
    words = split_items(value, "关键词")
    if len(words) > MAX_KEYWORDS:
        fail(f"关键词最多{MAX_KEYWORDS}个")
    long = [w for w in words if len(w) > 30]
    if long:
        fail(f"每个关键词不超过30个字：{long[0][:30]}…")
    return words


def _fields(value, info) -> list[Any]:
    """Field rows by id or name; retired fields are refused, at most five."""
    found = []
    for item in split_items(value, "技术领域"):
        if item.isdigit():
            row = db.session.get(Field, int(item)) if len(item) < 10 else None
        else:
            row = db.session.scalar(select(Field).where(Field.name == item))
        if row is None:
            fail(f"未知的技术领域：{item[:40]}")
        if row.retired:
            fail(f"技术领域“{row.name}”已停用，请选择其他领域")
        if row not in found:
            found.append(row)
    if (info.context or {}).get("complete") and not found:
        fail("请至少选择一个技术领域")
    if len(found) > MAX_FIELDS:
        fail(f"技术领域最多选择{MAX_FIELDS}个")
    return found


def _phone(value, info) -> str:
    phone = clean_text(value, "联系电话")
    if len(phone) > 40:
        fail(f"联系电话不能超过40个字（现有{len(phone)}个）")
    if phone and not _PHONE_RE.match(phone):
        fail("联系电话只能包含数字、空格、+、-、括号，5–40位")
    return phone


def _maturity(value, info) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value.strip() not in MATURITY_TRL:
        value = str(value).replace("\x00", "")
        fail(f"未知的成熟度：{value[:20]}（可选：{'、'.join(MATURITY_TRL)}）")
    return value.strip()


def _patents(value, info) -> list[str]:
    items = split_items(value, "专利号")
    if len(items) > MAX_PATENTS:
        fail(f"专利号最多{MAX_PATENTS}个")
    for item in items:
        problem = patent_error(item[:40])
        if problem:
            fail(problem)
    return [normalize_patent(p) for p in items]


STRINGS = {"type": "array", "items": {"type": "string"}}
FIELDS_DOC = {
    "type": "array",
    "maxItems": MAX_FIELDS,
    "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
    "description": "field names or ids (技术领域)",
}


class ListingInput(Schema):
    """What both kinds share. Declaration order is the order problems are listed in."""

    title: text("标题", 200, min_len=4, required=True)
    description: text("详细介绍", MAX_DESCRIPTION, min_len=10, on_submit=True)
    keywords: declare(
        list[str], _keywords, {**STRINGS, "maxItems": MAX_KEYWORDS}, default=None, title="关键词"
    )
    fields: declare(list[Any], _fields, FIELDS_DOC, default=None, title="技术领域")
    contact_name: text("联系人", 60)
    contact_phone: declare(
        str, _phone, {"type": "string", "maxLength": 40}, default="", title="联系电话"
    )
    external_ref: text("外部编号", 80)
    confidential: choices("保密内容", CONFIDENTIAL_PARTS)
    hide_organization: flag("隐藏发布单位")


class AchievementInput(ListingInput):
    """An achievement (科技成果) as posted, edited or imported."""

    summary: text("成果简介", 500)
    maturity: declare(
        str | None,
        _maturity,
        {"type": "string", "enum": list(MATURITY_TRL), "nullable": True},
        default=None,
        title="成熟度",
    )
    transfer_modes: choices("转化方式", TRANSFER_MODES)
    patents: declare(
        list[str], _patents, {**STRINGS, "maxItems": MAX_PATENTS}, default=None, title="专利号"
    )
    price_min: amount(PRICE_MIN, MAX_AMOUNT)
    price_max: amount("价格上限（万元）", MAX_AMOUNT, at_least=("price_min", PRICE_MIN))


class NeedInput(ListingInput):
    """A technical need (技术需求) as posted, edited or imported."""

    # A need's description is its 需求描述; same limits, its own label in messages.
    description: text("需求描述", MAX_DESCRIPTION, min_len=10, on_submit=True)
    budget_min: amount(BUDGET_MIN, MAX_AMOUNT)
    budget_max: amount("预算上限（万元）", MAX_AMOUNT, at_least=("budget_min", BUDGET_MIN))
    deadline: day("截止日期", future_unless="deadline_changed")
    cooperation_modes: choices("合作方式", TRANSFER_MODES)
    is_bottleneck: flag("卡脖子难题")


INPUTS = {"achievement": AchievementInput, "need": NeedInput}


def _strict_bool(value, info) -> bool:
    if not isinstance(value, bool):
        fail("submit 应为 true 或 false")
    return value


def _passed_on(value, info) -> Any:
    """Documented here, checked by the service that knows the caller: poster_organization
    (rights over organization_id) and review_listing (decision and reason, in staff's words)."""
    return value


class PostingOptions(Schema):
    """Keys of an API body that steer the posting rather than describe the listing."""

    submit: declare(bool, _strict_bool, {"type": "boolean"}, default=False)
    organization_id: declare(
        Any,
        _passed_on,
        {"type": "integer", "description": "staff only: the posting organization"},
        default=None,
    )


class AchievementBody(AchievementInput, PostingOptions):
    """The JSON body of POST/PATCH /api/v1/achievements."""


class NeedBody(NeedInput, PostingOptions):
    """The JSON body of POST/PATCH /api/v1/needs."""


class Review(Schema):
    """Staff's review of a pending listing."""

    decision: declare(
        Any,
        _passed_on,
        {"type": "string", "enum": ["publish", "return", "reject"]},
        default=None,
    )
    reason: declare(Any, _passed_on, {"type": "string", "maxLength": 1000}, default="")


# JSON-lines files for `demo load`: their own short messages name the key, as a script reads.
LINE_LENGTHS = {"id": 80, "title": 200, "field": 60, "org": 120}


def line_text(value, name: str, required: bool = False) -> str:
    """A line's text value, trimmed; too long, missing when required or not text fails."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        fail(f"{name} 应为字符串")
    value = value.strip()
    if required and not value:
        fail(f"缺少 {name}")
    if name in LINE_LENGTHS and len(value) > LINE_LENGTHS[name]:
        fail(f"{name} 超过{LINE_LENGTHS[name]}个字符")
    return value


def _line_id(value, info) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return line_text(value, "id", required=True)


def _line_keywords(value, info) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        fail("keywords 应为字符串数组")
    return [k.strip() for k in value if k.strip()]


def _line_fields(value, info) -> list[str]:
    """`fields` (1–5, in the poster's order) wins over the single `field`."""
    if value is None:
        return [line_text(info.data.get("field"), "field", required=True)]
    if not isinstance(value, list) or not all(isinstance(f, str) for f in value):
        fail("fields 应为字符串数组")
    names = list(dict.fromkeys(line_text(f, "field") for f in value if f.strip()))
    if not names:
        fail("缺少 fields（至少一个领域）")
    if len(names) > MAX_FIELDS:
        fail(f"fields 最多{MAX_FIELDS}个领域")
    return names


def _line_field(name: str, required: bool = False):
    return lambda value, info: line_text(value, name, required)


class ListingFileLine(Schema):
    """One line of a `demo load` file: {"id", "title", "description", "keywords", "fields"}."""

    id: declare(str, _line_id, {"type": "string", "maxLength": 80}, default=None)
    title: declare(str, _line_field("title"), {"type": "string", "maxLength": 200}, default="")
    description: declare(str, _line_field("description"), {"type": "string"}, default="")
    keywords: declare(list[str], _line_keywords, STRINGS, default=[])
    field: declare(Any, lambda value, info: value, {"type": "string"}, default=None)
    fields: declare(list[str], _line_fields, {**STRINGS, "maxItems": MAX_FIELDS}, default=None)
    org: declare(str, _line_field("org"), {"type": "string", "maxLength": 120}, default=None)
