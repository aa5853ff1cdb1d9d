"""The listing search filters, declared once: catalogue pages, the API list, exports and docs.

Query arguments are forgiving where the old parser was: text is trimmed and cut, an unknown
`scope` is ignored; a value that cannot mean anything is reported against its argument.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from matchmaker.accounts.models import ORG_KINDS
from matchmaker.core.schemas import Schema, declare, fail
from matchmaker.listings.models import LISTING_STATUSES, MATURITY_TRL, TRANSFER_MODES


def _query(limit: int = 100):
    """A query argument as text: trimmed, NULs dropped, cut at `limit`; non-text is empty."""

    def read(value) -> str:
        return value.replace("\x00", "").strip()[:limit] if isinstance(value, str) else ""

    return read


def _one_of(allowed, message: str, kinds: tuple[str, ...] = ()):
    def check_choice(value, info) -> str | None:
        value = _query()(value)
        if not value:
            return None
        if value not in allowed or (kinds and (info.context or {}).get("kind") not in kinds):
            fail(message)
        return value

    return check_choice


def _or_typed(kind, check_value):
    """Code builds Filters(mine=True, field_id=3) directly: a value of its type is taken as is."""

    def read(value, info):
        if isinstance(value, kind) and not isinstance(value, str):
            return value
        return check_value(value, info)

    return read


def _field_id(value, info) -> int | None:
    raw = _query()(value)
    if not raw:
        return None
    if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31:
        return int(raw)
    fail("技术领域无效")


def _bound(at_least: str | None = None):
    def check_bound(value, info) -> Decimal | None:
        raw = _query(30)(value)
        if not raw:
            return None
        try:
            number = Decimal(raw)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number < 0 or number > Decimal("1e10"):
            fail("金额应为不小于0的数字（万元）")
        low = info.data.get(at_least) if at_least else None
        if low is not None and low > number:
            fail("上限不能小于下限")
        return number

    return check_bound


def _bottleneck(value, info) -> bool | None:
    value = _query()(value)
    if not value:
        return None
    if value not in ("1", "0", "true", "false"):
        fail("卡脖子筛选应为 1 或 0")
    return value in ("1", "true")


def _since(value, info) -> date | None:
    value = _query()(value)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail("日期格式应为 YYYY-MM-DD")


def _sort(value, info) -> str:
    value = _query()(value) or "relevance"
    if value not in ("relevance", "newest"):
        fail("排序方式应为 relevance 或 newest")
    return value


def _free_text(limit: int, description: str):
    read = _query(limit)
    schema = {"type": "string", "description": description}
    return declare(str, lambda value, info: read(value), schema, default="")


def _enum(values, description: str) -> dict:
    return {"type": "string", "enum": list(values), "description": description}


class ListingFilters(Schema):
    """Search filters of the catalogue pages, the API list and exports (query arguments)."""

    q: _free_text(200, "full-text search over title, keywords and description")
    field_id: declare(
        int | None,
        _or_typed(int, _field_id),
        {"type": "integer", "description": "field id (技术领域)"},
        default=None,
        alias="field",
    )
    maturity: declare(
        str | None,
        _one_of(MATURITY_TRL, f"成熟度无效（可选：{'、'.join(MATURITY_TRL)}）", ("achievement",)),
        _enum(MATURITY_TRL, "maturity stage (achievements)"),
        default=None,
    )
    mode: declare(
        str | None,
        _one_of(TRANSFER_MODES, f"方式无效（可选：{'、'.join(TRANSFER_MODES)}）"),
        _enum(TRANSFER_MODES, "transfer or cooperation mode"),
        default=None,
    )
    low: declare(
        Decimal | None,
        _or_typed(Decimal, _bound()),
        {"type": "number", "minimum": 0, "description": "lowest price/budget, 万元"},
        default=None,
        alias="min",
    )
    high: declare(
        Decimal | None,
        _or_typed(Decimal, _bound(at_least="low")),
        {"type": "number", "minimum": 0, "description": "highest price/budget, 万元"},
        default=None,
        alias="max",
    )
    region: _free_text(60, "organization region contains")
    org_kind: declare(
        str | None,
        _one_of(ORG_KINDS, "单位类型无效"),
        _enum(ORG_KINDS, "organization kind"),
        default=None,
    )
    bottleneck: declare(
        bool | None,
        _or_typed(bool, _bottleneck),
        _enum(["1", "0"], "1: only 卡脖子 needs"),
        default=None,
    )
    since: declare(
        date | None,
        _or_typed(date, _since),
        {"type": "string", "format": "date", "description": "published on or after"},
        default=None,
    )
    status: declare(
        str | None,
        _one_of(LISTING_STATUSES, "状态无效"),
        _enum(LISTING_STATUSES, "status (own organization's or staff)"),
        default=None,
    )
    mine: declare(
        bool,
        _or_typed(bool, lambda value, info: _query()(value) == "mine"),
        _enum(["mine"], "`mine`: own organization's listings in every status"),
        default=False,
        alias="scope",
    )
    sort: declare(
        str, _sort, _enum(["relevance", "newest"], "relevance (default) or newest"), default=None
    )


# Filters a kind's documentation leaves out: the other kind's only (both are still checked).
FILTERS_NOT_FOR = {"achievement": {"bottleneck"}, "need": {"maturity"}}
