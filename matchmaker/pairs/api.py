"""Pairs: list, read, and move through the state machine."""

from flask import current_app, request
from flask_login import current_user

from matchmaker.accounts.auth import roles_required
from matchmaker.core import paging
from matchmaker.core.api import bp
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.openapi import document
from matchmaker.pairs import data as pair_data
from matchmaker.pairs import queue as pair_queue
from matchmaker.pairs import transitions as service
from matchmaker.pairs.models import PAIR_STATES


@bp.get("/pairs")
@roles_required()
def list_pairs():
    state = request.args.get("state") or None
    if state is not None and state not in PAIR_STATES:
        raise ServiceError(f"未知状态：{state}", field="state")
    page, per_page = paging.page_args(
        request.args, default=current_app.config["PAGE_SIZE"], max_per_page=200
    )
    result = pair_queue.visible(current_user, state=state, page=page, per_page=per_page)
    return {
        "items": [pair_data.pair_dict(p, current_user, with_history=False) for p in result.items],
        "page": result.page,
        "per_page": result.per_page,
        "total": result.total,
        "pages": result.pages,
    }


@bp.get("/pairs/<int:pair_id>")
@roles_required()
def get_pair(pair_id: int):
    pair = service.get_pair(pair_id, current_user.id)
    return pair_data.pair_dict(pair, current_user)


@bp.post("/pairs/<int:pair_id>/transitions")
@roles_required()
def move_pair(pair_id: int):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ServiceError("请求体须为 JSON 对象", field="body")
    errors = {}
    for name in ("to", "note", "reason", "side"):
        if body.get(name) is not None and not isinstance(body[name], str):
            errors[name] = "须为字符串"
    if not body.get("to"):
        errors["to"] = "请指定目标状态"
    contract = body.get("contract")
    if contract is not None and not isinstance(contract, dict):
        errors["contract"] = "须为对象：{type, amount, signed_on}"
    meeting = body.get("meeting")
    if meeting is not None and not isinstance(meeting, dict):
        errors["meeting"] = "须为对象：{starts_at, place, online_url}"
    version = body.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        errors["version"] = "须为整数"
    if errors:
        raise ServiceError("请求参数有误", errors=errors)
    pair = service.transition(
        pair_id,
        current_user.id,
        body["to"],
        note=body.get("note") or "",
        reason=body.get("reason") or "",
        side=body.get("side") or None,
        contract=contract,
        expected_version=version,
        meeting={k: v for k, v in (meeting or {}).items() if k != "past_allowed"},
    )
    return pair_data.pair_dict(pair, current_user)


_ERRORS = {
    "400": {"description": "bad input; `errors` maps each field to a message"},
    "401": {"description": "not signed in"},
    "403": {"description": "the user may not see or act on this pair"},
    "404": {"description": "no such pair"},
}
_STATE = {"type": "string", "enum": list(PAIR_STATES)}

document(
    "/api/v1/pairs",
    "get",
    {
        "summary": "Pairs the user may see (a broker: those of their fields; a party: those "
        "recommended to their organization), best score first",
        "parameters": [
            {"name": "state", "in": "query", "schema": _STATE},
            {
                "name": "page",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 100000},
            },
            {
                "name": "per_page",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 200},
            },
        ],
        "responses": {"200": {"description": "{items, page, per_page, total, pages}"}, **_ERRORS},
    },
)
document(
    "/api/v1/pairs/{id}",
    "get",
    {
        "summary": "One pair with state, score, terms, need, achievement and its full history "
        "(each event: from, to, by, at, note)",
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "responses": {"200": {"description": "the pair"}, **_ERRORS},
    },
)
document(
    "/api/v1/pairs/{id}/transitions",
    "post",
    {
        "summary": "Move a pair, or record one side's answer",
        "description": "Brokers: suggested→recommended|dismissed (reason: off_topic, "
        "maturity_mismatch, price_mismatch, same_group, other)|closed; accepted→"
        "meeting_scheduled→met→intention→contract (with contract); any open state→closed "
        "(reason required). A party answers a recommended pair with to=accepted or declined "
        "(reason required) for its own side; a broker may answer on a side's behalf with "
        "`side`. The pair becomes accepted once both sides accepted. `version` (optional) is "
        "the version the client saw; a stale one answers 409.",
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["to"],
                        "properties": {
                            "to": _STATE,
                            "note": {"type": "string"},
                            "reason": {"type": "string", "maxLength": 40},
                            "side": {"type": "string", "enum": ["need", "achievement"]},
                            "version": {"type": "integer"},
                            "meeting": {
                                "type": "object",
                                "description": "Required for to=meeting_scheduled: starts_at "
                                "(local time, in the future) and place or online_url",
                                "properties": {
                                    "starts_at": {"type": "string", "example": "2027-01-05 14:00"},
                                    "place": {"type": "string", "maxLength": 200},
                                    "online_url": {"type": "string", "format": "uri"},
                                },
                            },
                            "contract": {
                                "type": "object",
                                "properties": {
                                    "type": {
                                        "type": "string",
                                        "enum": [
                                            "技术开发",
                                            "技术转让",
                                            "技术许可",
                                            "技术咨询",
                                            "技术服务",
                                        ],
                                    },
                                    "amount": {
                                        "type": "number",
                                        "minimum": 0,
                                        "description": "万元",
                                    },
                                    "signed_on": {"type": "string", "format": "date"},
                                },
                            },
                        },
                    }
                }
            },
        },
        "responses": {
            "200": {"description": "the pair after the move"},
            "409": {"description": "illegal transition, or someone else moved the pair first"},
            **_ERRORS,
        },
    },
)
