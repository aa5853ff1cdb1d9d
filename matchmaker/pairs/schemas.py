"""What a pair transition accepts (POST /api/v1/pairs/<id>/transitions), declared once.

The shape is checked here; whether the move is allowed for this pair and this user is the
state machine's business (pairs.transitions).
"""

from typing import Any

from matchmaker.core.schemas import Schema, declare, fail

# The one line to change when the state names move to an enum (PairState).
from matchmaker.pairs.models import CONTRACT_TYPES
from matchmaker.pairs.models import PAIR_STATES as TARGET_STATES

UNKNOWN_STATE = "未知的目标状态："
SIDES = ("need", "achievement")


def _target(value, info) -> str:
    if not value:
        fail("请指定目标状态")
    if not isinstance(value, str):
        fail("须为字符串")
    if value not in TARGET_STATES:
        fail(f"{UNKNOWN_STATE}{value}")
    return value


def _string(value, info) -> str | None:
    if value is not None and not isinstance(value, str):
        fail("须为字符串")
    return value


def _object(shape: str):
    def check_object(value, info) -> dict | None:
        if value is not None and not isinstance(value, dict):
            fail(f"须为对象：{{{shape}}}")
        return value

    return check_object


def _version(value, info) -> int | None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        fail("须为整数")
    return value


MEETING = {
    "type": "object",
    "nullable": True,
    "description": "Required for to=meeting_scheduled: starts_at "
    "(local time, in the future) and place or online_url",
    "properties": {
        "starts_at": {"type": "string", "example": "2027-01-05 14:00"},
        "place": {"type": "string", "maxLength": 200},
        "online_url": {"type": "string", "format": "uri"},
    },
}
CONTRACT = {
    "type": "object",
    "nullable": True,
    "properties": {
        "type": {"type": "string", "enum": list(CONTRACT_TYPES)},
        "amount": {"type": "number", "minimum": 0, "description": "万元"},
        "signed_on": {"type": "string", "format": "date"},
    },
}


class PairTransition(Schema):
    """A move of a pair, or one side's answer."""

    to: declare(str, _target, {"type": "string", "enum": list(TARGET_STATES)}, default=None)
    note: declare(str | None, _string, {"type": "string", "nullable": True}, default=None)
    reason: declare(
        str | None, _string, {"type": "string", "maxLength": 40, "nullable": True}, default=None
    )
    side: declare(
        str | None, _string, {"type": "string", "enum": list(SIDES), "nullable": True}, default=None
    )
    contract: declare(Any, _object("type, amount, signed_on"), CONTRACT, default=None)
    meeting: declare(Any, _object("starts_at, place, online_url"), MEETING, default=None)
    version: declare(int | None, _version, {"type": "integer", "nullable": True}, default=None)
