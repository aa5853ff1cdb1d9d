"""/api/v1 routes of the bottleneck list, applications and agencies."""

from flask import abort, request
from flask_login import current_user

from matchmaker.accounts.auth import roles_required
from matchmaker.challenges import agencies, applications, bottlenecks, figures
from matchmaker.challenges.models import AGENCY_LEVELS, BottleneckEntry
from matchmaker.core.api import bp
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.extensions import db
from matchmaker.core.openapi import document


def _application_dict(a, detail: bool = False) -> dict:
    out = {
        "id": a.id,
        "problem_id": a.entry_id,
        "lead_organization": a.lead_org.name,
        "partners": [p.organization.name for p in a.partners],
        "budget_asked": str(a.budget_asked),
        "status": a.status,
        "achievement_ids": [x.achievement_id for x in a.achievements],
        "average_review": applications.average_total(a),
        "pair_id": a.suggestion_id,
    }
    if detail:
        out.update(
            approach=a.approach,
            team=a.team,
            milestones=a.milestones,
            reviews=[
                {
                    "expert": r.expert_name,
                    "scores": r.scores,
                    "total": r.total,
                    "comment": r.comment,
                }
                for r in a.reviews
            ],
            matcher_scores={
                str(k): v
                for k, v in applications.linked_scores(
                    a.entry.need, [x.achievement_id for x in a.achievements]
                ).items()
            },
            attachments=[
                {"id": f.id, "filename": f.filename, "size": f.size} for f in a.attachments
            ],
        )
    return out


@bp.get("/challenges")
def list_challenges():
    version = bottlenecks.latest_version()
    return {
        "year": version.year if version else None,
        "version": version.version if version else None,
        "items": bottlenecks.public_rows(),
    }


@bp.get("/challenges/<int:problem_id>")
def get_challenge(problem_id: int):
    entry = db.session.get(BottleneckEntry, problem_id)
    viewer = current_user if current_user.is_authenticated else None
    if entry is None or not (
        (viewer is not None and viewer.role == "staff") or bottlenecks.is_public(entry)
    ):
        abort(404)
    row = bottlenecks.row_of(entry)
    row["status"] = entry.status
    row["applications"] = [
        _application_dict(a) for a in applications.visible_for_entry(entry, viewer)
    ]
    return row


@bp.post("/challenges/<int:problem_id>/applications")
@roles_required("institute")
def apply_challenge(problem_id: int):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ServiceError("请求体须为 JSON 对象", field="body")
    application = applications.apply(problem_id, current_user.id, body)
    return _application_dict(application, detail=True), 201


@bp.get("/challenge-applications/<int:application_id>")
@roles_required()
def get_challenge_application(application_id: int):
    application = applications.get_visible(application_id, current_user.id)
    return _application_dict(application, detail=True)


@bp.get("/agencies")
@roles_required("staff", "broker")
def list_agencies():
    per_agency = {r["agency_id"]: r for r in figures.per_agency()}
    return {
        "items": [
            {
                "id": org.id,
                "name": org.name,
                "level": profile.level if profile else None,
                "level_label": AGENCY_LEVELS.get(profile.level) if profile else "未认定",
                "recognized_on": profile.recognized_on.isoformat()
                if profile and profile.recognized_on
                else None,
                "brokers": per_agency[org.id]["brokers"],
                "contracts": per_agency[org.id]["contracts"],
                "contract_value": str(per_agency[org.id]["contract_value"]),
            }
            for org, profile in agencies.agencies()
        ],
        "certification": figures.certification(),
    }


_PROBLEM = {"name": "problem_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_ERR = {"$ref": "#/components/schemas/Error"}
document(
    "/api/v1/challenges",
    "get",
    {
        "summary": "The published bottleneck list (卡脖子技术问题清单); public",
        "responses": {"200": {"description": "year, version and the problems still listed"}},
    },
)
document(
    "/api/v1/challenges/{problem_id}",
    "get",
    {
        "summary": "One listed problem with the applications the caller may see",
        "parameters": [_PROBLEM],
        "responses": {"200": {"description": "the problem"}, "404": {"description": "not listed"}},
    },
)
document(
    "/api/v1/challenges/{problem_id}/applications",
    "post",
    {
        "summary": "Apply to solve a listed problem (揭榜); institutes",
        "parameters": [_PROBLEM],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["approach", "team", "milestones", "budget_asked"],
                        "properties": {
                            "approach": {"type": "string", "minLength": 20, "maxLength": 5000},
                            "team": {"type": "string", "maxLength": 2000},
                            "milestones": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "due": {"type": "string", "format": "date"},
                                        "title": {"type": "string", "maxLength": 200},
                                    },
                                },
                            },
                            "budget_asked": {"type": "string", "description": "万元"},
                            "partner_ids": {"type": "array", "items": {"type": "integer"}},
                            "achievement_ids": {"type": "array", "items": {"type": "integer"}},
                        },
                    }
                }
            },
        },
        "responses": {
            "201": {"description": "the application"},
            "400": {
                "description": "invalid input",
                "content": {"application/json": {"schema": _ERR}},
            },
            "403": {"description": "not an approved institute, or not listed"},
            "409": {"description": "this organization applied already"},
        },
    },
)
document(
    "/api/v1/challenge-applications/{application_id}",
    "get",
    {
        "summary": "An application: staff, the problem's company and the team only",
        "parameters": [
            {
                "name": "application_id",
                "in": "path",
                "required": True,
                "schema": {"type": "integer"},
            }
        ],
        "responses": {
            "200": {"description": "the application"},
            "403": {"description": "not yours"},
        },
    },
)
document(
    "/api/v1/agencies",
    "get",
    {
        "summary": "Transfer agencies: level, brokers, contracts (staff and brokers)",
        "responses": {"200": {"description": "agencies and the year's certification figures"}},
    },
)
