"""Matching runs over the API: list, start, read, cancel (staff)."""

from flask import request
from flask_login import current_user

from matchmaker.accounts.auth import roles_required
from matchmaker.core.api import bp
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.openapi import document
from matchmaker.core.paging import positive_int
from matchmaker.runs import full_match as matching_runs

RUN_SCHEMA = {
    "type": "object",
    "properties": {
        "run_id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["full", "rebuild", "incremental"]},
        "status": {"type": "string", "enum": list(matching_runs.STATUS_LABELS)},
        "status_label": {"type": "string"},
        "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "needs": {"type": "integer"},
        "achievements": {"type": "integer"},
        "suggestions": {"type": "integer"},
        "chunks_done": {"type": "integer"},
        "chunks_total": {"type": "integer"},
        "model_version": {"type": "string"},
        "error": {"type": "string"},
        "created_at": {"type": "string", "nullable": True},
        "finished_at": {"type": "string", "nullable": True},
        "seconds": {"type": "number", "nullable": True},
    },
}
_run = {"application/json": {"schema": {"$ref": "#/components/schemas/MatchRun"}}}
_error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_denied = {"401": {"description": "not signed in"}, "403": {"description": "not staff"}}


@bp.get("/runs")
@roles_required("staff")
def list_runs():
    matching_runs.reconcile()
    limit = request.args.get("limit", "50")
    if positive_int(limit, top=500) is None:
        raise ServiceError("limit 必须是 1–500 之间的整数", field="limit")
    return {"runs": [matching_runs.describe(r) for r in matching_runs.list_runs(int(limit))]}


@bp.post("/runs")
@roles_required("staff")
def start_run():
    payload = request.get_json(silent=True) or {}
    kind = payload.get("kind", "full") if isinstance(payload, dict) else "full"
    run = matching_runs.start_rematch(kind, user_id=current_user.id)
    return matching_runs.describe(run), 202


@bp.get("/runs/<int:run_id>")
@roles_required("staff")
def get_run(run_id: int):
    return matching_runs.status(run_id)


@bp.post("/runs/<int:run_id>/cancel")
@roles_required("staff")
def cancel_run(run_id: int):
    return matching_runs.describe(matching_runs.cancel_run(run_id))


from matchmaker.core.openapi import SPEC  # noqa: E402

SPEC["components"]["schemas"]["MatchRun"] = RUN_SCHEMA
document(
    "/api/v1/runs",
    "get",
    {
        "summary": "List matching runs, newest first (re-queues stuck runs first)",
        "tags": ["runs"],
        "parameters": [
            {
                "name": "limit",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 500},
            }
        ],
        "responses": {
            "200": {
                "description": "runs",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"runs": {"type": "array", "items": RUN_SCHEMA}},
                        }
                    }
                },
            },
            "400": {"description": "bad limit", "content": _error},
            **_denied,
        },
    },
)
document(
    "/api/v1/runs",
    "post",
    {
        "summary": "Start a full rematch (kind full) or a model rebuild and rematch (kind rebuild)",
        "tags": ["runs"],
        "requestBody": {
            "required": False,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"kind": {"type": "string", "enum": ["full", "rebuild"]}},
                    }
                }
            },
        },
        "responses": {
            "202": {"description": "queued", "content": _run},
            "400": {"description": "bad kind or broker down", "content": _error},
            "409": {"description": "a full run is already active", "content": _error},
            **_denied,
        },
    },
)
_path_id = [{"name": "run_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
document(
    "/api/v1/runs/{run_id}",
    "get",
    {
        "summary": "One run's status and progress (0.0–1.0)",
        "tags": ["runs"],
        "parameters": _path_id,
        "responses": {
            "200": {"description": "the run", "content": _run},
            "404": {"description": "no such run", "content": _error},
            **_denied,
        },
    },
)
document(
    "/api/v1/runs/{run_id}/cancel",
    "post",
    {
        "summary": "Cancel a queued or running run",
        "tags": ["runs"],
        "parameters": _path_id,
        "responses": {
            "200": {"description": "cancelled", "content": _run},
            "404": {"description": "no such run", "content": _error},
            "409": {"description": "the run already ended", "content": _error},
            **_denied,
        },
    },
)
