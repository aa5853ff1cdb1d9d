"""Pairs: list, read, and move through the state machine."""

from flask import current_app, request
from flask_login import current_user

from matchmaker.accounts.auth import roles_required
from matchmaker.core import paging
from matchmaker.core.api import bp
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.openapi import document
from matchmaker.core.schemas import check, component
from matchmaker.pairs import data as pair_data
from matchmaker.pairs import queue as pair_queue
from matchmaker.pairs import transitions as service
from matchmaker.pairs.models import PAIR_STATES
from matchmaker.pairs.schemas import UNKNOWN_STATE, PairTransition


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
    checked = check(PairTransition, body)
    # An unknown target is refused by the state machine after it has checked who may act
    # (403 before 400), in the same words; every other shape problem is refused here.
    errors = {k: m for k, m in checked.errors.items() if not m.startswith(UNKNOWN_STATE)}
    if errors:
        raise ServiceError("请求参数有误", errors=errors)
    move = checked.values
    pair = service.transition(
        pair_id,
        current_user.id,
        body["to"],
        note=move["note"] or "",
        reason=move["reason"] or "",
        side=move["side"] or None,
        contract=move["contract"],
        expected_version=move["version"],
        meeting={k: v for k, v in (move["meeting"] or {}).items() if k != "past_allowed"},
    )
    return pair_data.pair_dict(pair, current_user)


_ERRORS = {
    "400": {"description": "bad input; `errors` maps each field to a message"},
    "401": {"description": "not signed in"},
    "403": {"description": "the user may not see or act on this pair"},
    "404": {"description": "no such pair"},
}
_STATE = {"type": "string", "enum": list(PAIR_STATES)}
TRANSITION_SCHEMA = {**component(PairTransition), "required": ["to"]}

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
            "content": {"application/json": {"schema": TRANSITION_SCHEMA}},
        },
        "responses": {
            "200": {"description": "the pair after the move"},
            "409": {"description": "illegal transition, or someone else moved the pair first"},
            **_ERRORS,
        },
    },
)
