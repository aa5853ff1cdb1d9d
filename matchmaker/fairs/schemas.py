"""What creating a fair (对接会) accepts, declared once: the staff form, the CLI and the demo.

Each field's own rule is in `FairInput`; the timetable rules that read several fields (an end
from a slot count, an end after the start) are in `check_fair`, which reports them against the
same field names, at most one of them, as the hand-written parser did.
"""

from datetime import date, datetime, time, timedelta
from typing import Any

from matchmaker.core.exceptions import ServiceError
from matchmaker.core.local_time import to_utc
from matchmaker.core.schemas import Checked, Schema, check, declare, fail

MAX_SLOTS = 96
MAX_TABLES = 2000
CLOCK = {"type": "string", "pattern": r"^\d{1,2}:\d{2}$", "example": "09:00"}
TIMETABLE = ("starts_at", "breaks", "slots", "ends_at")


def clock(value: str, field: str) -> time:
    """A time of day written HH:MM."""
    try:
        return datetime.strptime(value.strip(), "%H:%M").time()
    except (ValueError, AttributeError):
        raise ServiceError("时间格式应为 HH:MM，例如 09:00", field=field) from None


def parse_breaks(text: str) -> list[list[str]]:
    """Read breaks written as "12:00-13:30, 15:00-15:20" into [["12:00", "13:30"], ...]."""
    breaks = []
    for part in text.replace("，", ",").replace("～", "-").replace("–", "-").split(","):
        part = part.strip()
        if not part:
            continue
        if "-" not in part:
            raise ServiceError("休息时段写作 12:00-13:30，多个用逗号分隔", field="breaks")
        start, end = (clock(x, "breaks") for x in part.split("-", 1))
        if start >= end:
            raise ServiceError("休息时段的结束时间应晚于开始时间", field="breaks")
        breaks.append([f"{start:%H:%M}", f"{end:%H:%M}"])
    return breaks


def _whole(value):
    """An int from a form value; blank is None and anything else not a whole number stays put."""
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        return int(value) if value.isdigit() else value
    return value


def _between(low: int, high: int, message: str | None = None, optional: bool = False):
    def check_whole(value, info) -> int | None:
        value = _whole(value)
        if value is None and optional:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            fail(message or f"应为 {low}–{high} 之间的整数")
        return value

    return check_whole


def _name(value, info) -> str:
    name = str(value or "").strip()
    if not name:
        fail("请填写对接会名称")
    if len(name) > 120:
        fail("名称不超过120个字符")
    return name


def _held_on(value, info) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        fail("日期格式应为 YYYY-MM-DD")


def _service_check(parse):
    """A field check from a parser that raises ServiceError (shared with slot_times)."""

    def check_with(value, info):
        try:
            return parse(value)
        except ServiceError as e:
            fail(e.message)

    return check_with


def _breaks(value) -> list:
    return parse_breaks(value) if isinstance(value, str) else list(value or [])


def _closes(value, info) -> datetime | None:
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    try:
        return to_utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        fail("截止时间格式应为 YYYY-MM-DD HH:MM")


def _as_is(value, info) -> Any:
    return value


class FairInput(Schema):
    """A new fair; declaration order is the order problems are listed in."""

    name: declare(str, _name, {"type": "string", "minLength": 1, "maxLength": 120}, default="")
    held_on: declare(date, _held_on, {"type": "string", "format": "date"}, default="")
    venue: declare(
        str,
        lambda value, info: str(value or "").strip()[:200],
        {"type": "string", "maxLength": 200},
        default="",
    )
    slot_minutes: declare(int, _between(5, 240), {"type": "integer", "minimum": 5}, default=20)
    tables: declare(int, _between(1, MAX_TABLES), {"type": "integer", "minimum": 1}, default=10)
    default_quota: declare(
        int, _between(1, MAX_SLOTS), {"type": "integer", "minimum": 1}, default=5
    )
    org_quota: declare(
        int | None,
        _between(1, 10**9, "单位配额应为正整数，或留空表示不限", optional=True),
        {"type": "integer", "minimum": 1, "nullable": True},
        default=None,
    )
    slots: declare(
        int | None,
        _between(1, MAX_SLOTS, f"时段数应为 1–{MAX_SLOTS} 之间的整数", optional=True),
        {"type": "integer", "minimum": 1, "maximum": MAX_SLOTS, "nullable": True},
        default=None,
    )
    starts_at: declare(
        time, _service_check(lambda v: clock(v, "starts_at")), CLOCK, default="09:00"
    )
    breaks: declare(list, _service_check(_breaks), {"type": "string"}, default="")
    # Read by check_fair: with `slots` the end follows from them and this is ignored.
    ends_at: declare(Any, _as_is, {**CLOCK, "nullable": True}, default="17:00")
    registration_closes_at: declare(
        datetime | None, _closes, {"type": "string", "nullable": True}, default=None
    )


def _timetable(values: dict, errors: dict) -> None:
    """The end of the day from the slot count or the given end; one problem at most."""
    if "starts_at" in errors:
        errors.pop("breaks", None)  # breaks are read against the start; one problem first
        return
    if "breaks" in errors:
        return
    start, slots, minutes = values["starts_at"], values.get("slots"), values.get("slot_minutes")
    if "slots" in errors:
        return
    if slots is not None and "slot_minutes" not in errors:
        today = date.today()
        end = datetime.combine(today, start) + timedelta(minutes=minutes * slots)
        if end.date() != today:
            errors["slots"] = "时段超出当天，请减少时段数或缩短时长"
            return
        values["ends_at"], values["breaks"] = end.time(), []
        return
    try:
        end = clock(values.get("ends_at") or "", "ends_at")
    except ServiceError as e:
        errors["ends_at"] = e.message
        return
    if end <= start:
        errors["ends_at"] = "结束时间应晚于开始时间"
        return
    values["ends_at"] = end


def check_fair(raw: dict) -> Checked:
    """Check a new fair's values, the timetable included."""
    checked = check(FairInput, raw)
    values, errors = checked.values, dict(checked.errors)
    _timetable(values, errors)
    order = list(FairInput.model_fields)
    return Checked(values, dict(sorted(errors.items(), key=lambda item: order.index(item[0]))))
