"""Inputs declared once, as pydantic models, and what is derived from a declaration.

A field is declared with one of the builders below: the builder carries the field's limits and
its Chinese messages, so the same numbers check a form, a JSON body or a spreadsheet row and
appear in `/api/v1/openapi.json`. Every builder validates *before* pydantic's own type check and
returns a value of the declared type, so pydantic never answers in English; `check` turns a
ValidationError into our `{field: 中文 message}` errors.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, NoReturn

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema
from pydantic import ValidationInfo as Info
from pydantic_core import PydanticCustomError

SPLIT_RE = re.compile(r"[,，、;；\n\r\t]+")
TRUE_WORDS = {"1", "true", "yes", "on", "是", "y", "t"}
FALSE_WORDS = {"", "0", "false", "no", "off", "否", "n", "f"}
REF_TEMPLATE = "#/components/schemas/{model}"


class Schema(BaseModel):
    """Base of every input: defaults are checked too, unknown keys are ignored."""

    model_config = ConfigDict(
        validate_default=True, extra="ignore", validate_by_name=True, validate_by_alias=True
    )


def fail(message: str) -> NoReturn:
    """Report `message` against the field being checked."""
    # The message travels in the context: a template would read braces typed by the user.
    raise PydanticCustomError("matchmaker", "{message}", {"message": message})


def problems(error: ValidationError) -> dict[str, str]:
    """The first message per field of a ValidationError, keyed by field name."""
    out: dict[str, str] = {}
    for item in error.errors(include_url=False):
        key = str(item["loc"][0]) if item["loc"] else "body"
        message = (item.get("ctx") or {}).get("message")
        out.setdefault(key, message or ("请求体应为 JSON 对象" if key == "body" else "格式不正确"))
    return out


@dataclass
class Checked:
    """Cleaned values and the problems found, keyed by field; `row` is the model when valid.

    `values` holds every field that passed even when others failed, as the hand-written
    checks did: a caller may still look at them (posting checks a clean external_ref for
    duplicates while reporting the other problems).
    """

    values: dict
    errors: dict
    row: Any = None


def check(model: type[Schema], raw: Any, **context) -> Checked:
    """Validate `raw` against `model` with `context` for the field checks."""
    context["values"] = values = {}
    try:
        row = model.model_validate(plain(raw), context=context)
    except ValidationError as e:
        errors = problems(e)
        return Checked({k: v for k, v in values.items() if k not in errors}, errors)
    return Checked(values, {}, row)


def plain(raw: Any) -> Any:
    """A request's MultiDict as a dict of first values (pydantic reads a dict's own storage)."""
    to_dict = getattr(raw, "to_dict", None)
    return to_dict() if callable(to_dict) else raw


def context(info: Info) -> dict:
    return info.context or {}


def field(check_value: Callable, schema: dict, **options) -> Any:
    """A declared field: `check_value(value, info)` cleans or fails, `schema` documents it."""

    def checked(value, info: Info):
        result = check_value(value, info)
        context(info).get("values", {})[info.field_name] = result
        return result

    return Field(**options), BeforeValidator(checked), WithJsonSchema(schema)


def declare(kind: Any, check_value: Callable, schema: dict, **options) -> Any:
    return Annotated[(kind, *field(check_value, schema, **options))]


def clean_text(value: Any, label: str) -> str:
    """Text with NULs and outer spaces removed; numbers read as text, anything else fails."""
    if value is None:
        value = ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        fail(f"{label}应为文本")
    return value.replace("\x00", "").strip()


def text(
    label: str, max_len: int, *, min_len: int = 0, required: bool = False, on_submit: bool = False
) -> Any:
    """Free text; `on_submit` means required (and `min_len`) only in a submission for review."""

    def check_text(value, info: Info) -> str:
        strict = not on_submit or bool(context(info).get("complete"))
        value = clean_text(value, label)
        if (required or on_submit) and strict and not value:
            fail(f"请填写{label}")
        if value and strict and len(value) < min_len:
            fail(f"{label}至少{min_len}个字")
        if len(value) > max_len:
            fail(f"{label}不能超过{max_len}个字（现有{len(value)}个）")
        return value

    schema = {"type": "string", "maxLength": max_len}
    if required and min_len:
        schema["minLength"] = min_len
    return declare(str, check_text, schema, default="", title=label)


def split_items(value: Any, label: str, pattern: re.Pattern = SPLIT_RE) -> list[str]:
    """Distinct, trimmed items from a list or from text split on commas, 、 and the like."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        parts = pattern.split(value)
    elif isinstance(value, (list, tuple)):
        if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
            fail(f"{label}应为文本列表")
        parts = [str(v) for v in value]
    else:
        fail(f"{label}应为文本列表")
    out: list[str] = []
    for part in (p.replace("\x00", "").strip() for p in parts):
        if part and part not in out:
            out.append(part)
    return out


def choices(label: str, allowed) -> Any:
    """A list of items, each one of `allowed`."""
    allowed = tuple(allowed)

    def check_choices(value, info: Info) -> list[str]:
        items = split_items(value, label)
        unknown = [m for m in items if m not in allowed]
        if unknown:
            fail(f"未知的{label}：{unknown[0]}（可选：{'、'.join(allowed)}）")
        return items

    schema = {"type": "array", "items": {"type": "string", "enum": list(allowed)}}
    return declare(list[str], check_choices, schema, default=None, title=label)


def flag(label: str) -> Any:
    """是/否, true/false, 1/0 and the like; missing means no."""

    def check_flag(value, info: Info) -> bool:
        if isinstance(value, bool):
            return value
        if value is None or (isinstance(value, str) and value.strip().lower() in FALSE_WORDS):
            return False
        if isinstance(value, str) and value.strip().lower() in TRUE_WORDS:
            return True
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        fail(f"{label}应填“是”或“否”")

    return declare(bool, check_flag, {"type": "boolean"}, default=False, title=label)


def amount(label: str, maximum: Decimal, *, at_least: tuple[str, str] | None = None) -> Any:
    """An optional sum in 万元 to the cent; `at_least` = (field, label) it may not be below."""

    def check_amount(value, info: Info) -> Decimal | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
            fail(f"{label}应为数字")
        try:
            number = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            fail(f"{label}应为数字，如 50 或 12.5")
        if number < 0:
            fail(f"{label}不能为负数")
        if number > maximum:
            fail(f"{label}过大（最多{maximum:,}万元）")
        low = info.data.get(at_least[0]) if at_least else None
        if low is not None and low > number:
            fail(f"{label}不能小于{at_least[1]}")
        return number.quantize(Decimal("0.01"))

    schema = {
        "type": "number",
        "nullable": True,
        "minimum": 0,
        "maximum": float(maximum),
        "description": "万元",
    }
    return declare(Decimal | None, check_amount, schema, default=None, title=label)


def day(label: str, *, future_unless: str | None = None) -> Any:
    """An optional date, YYYY-MM-DD (or with / or .); `future_unless` names a context flag
    that, when false, lets a date already stored stay in the past."""

    def check_day(value, info: Info) -> date | None:
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            value = value.date()
        if not isinstance(value, date):
            if not isinstance(value, str):
                fail(f"{label}格式应为 YYYY-MM-DD")
            text = value.strip().replace("/", "-").replace(".", "-")
            try:
                value = date.fromisoformat(text[:10]) if len(text) >= 8 else None
            except ValueError:
                value = None
            if value is None:
                fail(f"{label}格式应为 YYYY-MM-DD，如 2027-06-30")
        ctx = context(info)
        if future_unless and ctx.get(future_unless, True) and value <= ctx["today"]:
            fail(f"{label}应晚于今天")
        return value

    schema = {"type": "string", "format": "date", "nullable": True}
    return declare(date | None, check_day, schema, default=None, title=label)


def component(model: type[BaseModel]) -> dict:
    """The model's JSON schema in OpenAPI 3.0 form, references pointing at components."""
    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
    schema.pop("$defs", None)
    for prop in schema.get("properties", {}).values():
        # "missing" defaults (None for a list) are not values of the documented type.
        if prop.get("default", 0) is None and not prop.get("nullable"):
            del prop["default"]
    return schema


def query_parameters(model: type[BaseModel], skip: Mapping | set = ()) -> list[dict]:
    """Optional query parameters, one per field of `model` (by alias), documented from it."""
    params = []
    for name, prop in component(model)["properties"].items():
        if name in skip:
            continue
        prop = dict(prop)
        description = prop.pop("description", "") or prop.get("title", name)
        prop.pop("title", None)
        prop.pop("default", None)
        params.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": description,
                "schema": prop,
            }
        )
    return params
