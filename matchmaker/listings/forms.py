"""Parse and check what people type into a listing: forms, JSON bodies and spreadsheet rows.

Every problem is reported against its field with a message in Chinese; nothing here touches the
session except to look up fields and external references.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from matchmaker.accounts.models import Field
from matchmaker.core.extensions import db
from matchmaker.core.validators import normalize_patent, patent_error
from matchmaker.listings.models import MATURITY_TRL, TRANSFER_MODES

MAX_AMOUNT = Decimal("99999999.99")  # 万元; fits Numeric(12, 2)
MAX_KEYWORDS = 10
MAX_PATENTS = 20
MAX_DESCRIPTION = 10000
_SPLIT_RE = re.compile(r"[,，、;；\n\r\t]+")
_PATENT_SPLIT_RE = re.compile(r"[,，、;；\n\r\t]+")
_PHONE_RE = re.compile(r"^[0-9+\-() 转]{5,40}$")
TRUE_WORDS = {"1", "true", "yes", "on", "是", "y", "t"}
FALSE_WORDS = {"", "0", "false", "no", "off", "否", "n", "f"}

LABELS = {
    "title": "标题",
    "summary": "成果简介",
    "description": "详细介绍",
    "keywords": "关键词",
    "fields": "技术领域",
    "maturity": "成熟度",
    "transfer_modes": "转化方式",
    "patents": "专利号",
    "price_min": "价格下限（万元）",
    "price_max": "价格上限（万元）",
    "budget_min": "预算下限（万元）",
    "budget_max": "预算上限（万元）",
    "deadline": "截止日期",
    "cooperation_modes": "合作方式",
    "is_bottleneck": "卡脖子难题",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "external_ref": "外部编号",
    "confidential": "保密内容",
    "hide_organization": "隐藏发布单位",
}
# Parts a poster may keep for parties of a recommended pair, brokers and staff.
CONFIDENTIAL_PARTS = {
    "description": "详细介绍",
    "price": "价格/预算",
    "patents": "专利与附件",
    "contact": "联系方式",
}
COMMON_KEYS = (
    "title",
    "description",
    "keywords",
    "fields",
    "contact_name",
    "contact_phone",
    "external_ref",
    "confidential",
    "hide_organization",
)
KIND_KEYS = {
    "achievement": COMMON_KEYS
    + ("summary", "maturity", "transfer_modes", "patents", "price_min", "price_max"),
    "need": COMMON_KEYS
    + ("budget_min", "budget_max", "deadline", "cooperation_modes", "is_bottleneck"),
}
# Text the matcher reads: a change here bumps the listing's revision and re-indexes it.
MATCHABLE = ("title", "description", "keywords", "summary", "fields")


@dataclass
class Checked:
    """Cleaned values and the problems found, keyed by field."""

    values: dict
    errors: dict


class _Checker:
    def __init__(self, raw: dict):
        self.raw = raw
        self.values: dict = {}
        self.errors: dict = {}

    def fail(self, key: str, message: str) -> None:
        self.errors.setdefault(key, message)

    def text(self, key: str, max_len: int, required: bool = False, min_len: int = 0) -> None:
        value = self.raw.get(key)
        if value is None:
            value = ""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            return self.fail(key, f"{LABELS[key]}应为文本")
        value = value.replace("\x00", "").strip()
        if required and not value:
            return self.fail(key, f"请填写{LABELS[key]}")
        if value and len(value) < min_len:
            return self.fail(key, f"{LABELS[key]}至少{min_len}个字")
        if len(value) > max_len:
            return self.fail(key, f"{LABELS[key]}不能超过{max_len}个字（现有{len(value)}个）")
        self.values[key] = value

    def items(self, key: str, pattern=_SPLIT_RE) -> list[str] | None:
        value = self.raw.get(key)
        if value is None or value == "":
            return []
        if isinstance(value, str):
            parts = pattern.split(value)
        elif isinstance(value, (list, tuple)):
            if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
                self.fail(key, f"{LABELS[key]}应为文本列表")
                return None
            parts = [str(v) for v in value]
        else:
            self.fail(key, f"{LABELS[key]}应为文本列表")
            return None
        seen, out = set(), []
        for part in (p.replace("\x00", "").strip() for p in parts):
            if part and part not in seen:
                seen.add(part)
                out.append(part)
        return out

    def keywords(self) -> None:
        words = self.items("keywords")
        if words is None:
            return
        if len(words) > MAX_KEYWORDS:
            return self.fail("keywords", f"关键词最多{MAX_KEYWORDS}个")
        long = [w for w in words if len(w) > 30]
        if long:
            return self.fail("keywords", f"每个关键词不超过30个字：{long[0][:30]}…")
        self.values["keywords"] = words

    def choices(self, key: str, allowed) -> None:
        items = self.items(key)
        if items is None:
            return
        unknown = [m for m in items if m not in allowed]
        if unknown:
            return self.fail(
                key, f"未知的{LABELS[key]}：{unknown[0]}（可选：{'、'.join(allowed)}）"
            )
        self.values[key] = items

    def fields(self, required: bool) -> None:
        items = self.items("fields")
        if items is None:
            return
        found = []
        for item in items:
            if item.isdigit():
                field = db.session.get(Field, int(item)) if len(item) < 10 else None
            else:
                field = db.session.scalar(select(Field).where(Field.name == item))
            if field is None:
                return self.fail("fields", f"未知的技术领域：{item[:40]}")
            if field.retired:
                return self.fail("fields", f"技术领域“{field.name}”已停用，请选择其他领域")
            if field not in found:
                found.append(field)
        if required and not found:
            return self.fail("fields", "请至少选择一个技术领域")
        if len(found) > 5:
            return self.fail("fields", "技术领域最多选择5个")
        self.values["fields"] = found

    def maturity(self) -> None:
        value = self.raw.get("maturity")
        if value is None or value == "":
            self.values["maturity"] = None
            return
        if not isinstance(value, str) or value.strip() not in MATURITY_TRL:
            value = str(value).replace("\x00", "")
            return self.fail(
                "maturity", f"未知的成熟度：{value[:20]}（可选：{'、'.join(MATURITY_TRL)}）"
            )
        self.values["maturity"] = value.strip()

    def patents(self) -> None:
        items = self.items("patents", _PATENT_SPLIT_RE)
        if items is None:
            return
        if len(items) > MAX_PATENTS:
            return self.fail("patents", f"专利号最多{MAX_PATENTS}个")
        for item in items:
            problem = patent_error(item[:40])
            if problem:
                return self.fail("patents", problem)
        self.values["patents"] = [normalize_patent(p) for p in items]

    def amount(self, key: str) -> None:
        value = self.raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            self.values[key] = None
            return
        if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
            return self.fail(key, f"{LABELS[key]}应为数字")
        try:
            amount = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            return self.fail(key, f"{LABELS[key]}应为数字，如 50 或 12.5")
        if not amount.is_finite():
            return self.fail(key, f"{LABELS[key]}应为数字，如 50 或 12.5")
        if amount < 0:
            return self.fail(key, f"{LABELS[key]}不能为负数")
        if amount > MAX_AMOUNT:
            return self.fail(key, f"{LABELS[key]}过大（最多{MAX_AMOUNT:,}万元）")
        self.values[key] = amount.quantize(Decimal("0.01"))

    def amount_range(self, low: str, high: str) -> None:
        a, b = self.values.get(low), self.values.get(high)
        if a is not None and b is not None and a > b:
            self.fail(high, f"{LABELS[high]}不能小于{LABELS[low]}")

    def deadline(self, today: date, check_future: bool) -> None:
        value = self.raw.get("deadline")
        if value is None or value == "":
            self.values["deadline"] = None
            return
        if isinstance(value, datetime):
            value = value.date()
        if not isinstance(value, date):
            if not isinstance(value, str):
                return self.fail("deadline", "截止日期格式应为 YYYY-MM-DD")
            text = value.strip().replace("/", "-").replace(".", "-")
            try:
                value = date.fromisoformat(text[:10]) if len(text) >= 8 else None
            except ValueError:
                value = None
            if value is None:
                return self.fail("deadline", "截止日期格式应为 YYYY-MM-DD，如 2027-06-30")
        if check_future and value <= today:
            return self.fail("deadline", "截止日期应晚于今天")
        self.values["deadline"] = value

    def flag(self, key: str) -> None:
        value = self.raw.get(key)
        if isinstance(value, bool):
            self.values[key] = value
        elif value is None or (isinstance(value, str) and value.strip().lower() in FALSE_WORDS):
            self.values[key] = False
        elif isinstance(value, str) and value.strip().lower() in TRUE_WORDS:
            self.values[key] = True
        elif isinstance(value, int) and value in (0, 1):
            self.values[key] = bool(value)
        else:
            self.fail(key, f"{LABELS[key]}应填“是”或“否”")

    def phone(self) -> None:
        self.text("contact_phone", 40)
        phone = self.values.get("contact_phone")
        if phone and not _PHONE_RE.match(phone):
            self.errors["contact_phone"] = "联系电话只能包含数字、空格、+、-、括号，5–40位"
            del self.values["contact_phone"]


def check_listing(
    kind: str, raw: dict, complete: bool, today: date, deadline_changed: bool = True
) -> Checked:
    """Check a listing's values; `complete` demands what a submission for review needs."""
    c = _Checker(raw)
    c.text("title", 200, required=True, min_len=4)
    c.text("description", MAX_DESCRIPTION, required=complete, min_len=10 if complete else 0)
    c.keywords()
    c.fields(required=complete)
    c.text("contact_name", 60)
    c.phone()
    c.text("external_ref", 80)
    if "confidential" in raw:
        c.choices("confidential", tuple(CONFIDENTIAL_PARTS))
    c.flag("hide_organization")
    if kind == "achievement":
        c.text("summary", 500)
        c.maturity()
        c.choices("transfer_modes", TRANSFER_MODES)
        c.patents()
        c.amount("price_min")
        c.amount("price_max")
        c.amount_range("price_min", "price_max")
    else:
        c.amount("budget_min")
        c.amount("budget_max")
        c.amount_range("budget_min", "budget_max")
        c.deadline(today, check_future=deadline_changed)
        c.choices("cooperation_modes", TRANSFER_MODES)
        c.flag("is_bottleneck")
        if "description" in c.errors:  # a need's description is its 需求描述
            c.errors["description"] = c.errors["description"].replace("详细介绍", "需求描述")
    return Checked(c.values, c.errors)


def listing_values(kind: str, listing) -> dict:
    """The current values of a listing in the shape check_listing accepts."""
    values = {key: getattr(listing, key) for key in KIND_KEYS[kind] if key != "fields"}
    values["fields"] = [str(f.id) for f in listing.fields]
    return values
