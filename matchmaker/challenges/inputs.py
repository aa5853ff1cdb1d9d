"""What every challenge use case checks first: who acts, and the small values of its forms."""

from datetime import date
from decimal import Decimal, InvalidOperation

from matchmaker.accounts.models import User
from matchmaker.core.exceptions import Forbidden
from matchmaker.core.extensions import db

MAX_AMOUNT = Decimal("1e11")


def amount(raw, field: str, errors: dict, required: bool = True, positive: bool = False):
    """Parse an amount in 万元 (two decimals); record a Chinese message under `field` if bad."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        if required:
            errors[field] = "请填写金额（万元）"
        return None
    try:
        value = Decimal(text)
        if not value.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors[field] = "金额须为数字（万元）"
        return None
    if value < 0 or (positive and value == 0):
        errors[field] = "金额须大于0（万元）" if positive else "金额不能为负数"
        return None
    if value >= MAX_AMOUNT:
        errors[field] = "金额过大"
        return None
    return value.quantize(Decimal("0.01"))


def day(raw, field: str, errors: dict, required: bool = True) -> date | None:
    """Parse a YYYY-MM-DD date."""
    if isinstance(raw, date):
        return raw
    text = str(raw or "").strip()
    if not text:
        if required:
            errors[field] = "请填写日期（YYYY-MM-DD）"
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[field] = "日期格式应为 YYYY-MM-DD"
        return None


def text(
    raw, field: str, errors: dict, limit: int, required: bool = False, minimum: int = 0
) -> str:
    """Strip a text input and check its length."""
    value = str(raw or "").strip()
    if required and not value:
        errors[field] = "此项必填"
    elif value and len(value) < minimum:
        errors[field] = f"至少需要{minimum}个字符"
    elif len(value) > limit:
        errors[field] = f"不能超过{limit}个字符"
    return value


def ids(raw) -> list[int]:
    """Integers from a list or a comma/space separated string; anything else is dropped."""
    items = raw if isinstance(raw, list | tuple) else str(raw or "").replace("，", ",").split(",")
    out = []
    for item in items:
        try:
            value = int(str(item).strip())
        except (TypeError, ValueError):
            continue
        if 0 < value < 2**31 and value not in out:
            out.append(value)
    return out


def staff(actor_id: int | None, message: str = "只有工作人员可以执行此操作") -> User:
    """The active staff user acting, or Forbidden with `message`."""
    user = db.session.get(User, actor_id) if actor_id else None
    if user is None or not user.is_active or user.role != "staff":
        raise Forbidden(message)
    return user
