"""OpenAPI description of the listing endpoints (kept apart so the handlers stay readable)."""

from matchmaker.accounts.models import ORG_KINDS
from matchmaker.core.openapi import SPEC, document
from matchmaker.listings.models import LISTING_STATUSES, MATURITY_TRL, TRANSFER_MODES

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _json(ref: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def _errors(*codes: str) -> dict:
    text = {
        "400": "invalid input; `errors` maps each field to its problem",
        "401": "not signed in",
        "403": "role or organization may not do this",
        "404": "no such listing, or not visible to the caller",
        "409": "the listing's status does not allow this",
    }
    return {code: {"description": text[code], "content": ERROR} for code in codes}


STRING_LIST = {"type": "array", "items": {"type": "string"}}
AMOUNT = {"type": "number", "nullable": True, "minimum": 0, "description": "万元"}
COMMON_INPUT = {
    "title": {"type": "string", "minLength": 4, "maxLength": 200},
    "description": {"type": "string", "maxLength": 10000},
    "keywords": STRING_LIST,
    "fields": {
        "type": "array",
        "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "description": "field names or ids (技术领域)",
    },
    "contact_name": {"type": "string", "maxLength": 60},
    "contact_phone": {"type": "string", "maxLength": 40},
    "external_ref": {"type": "string", "maxLength": 80, "nullable": True},
    "organization_id": {"type": "integer", "description": "staff only: the posting organization"},
}
ACHIEVEMENT_INPUT = {
    "summary": {"type": "string", "maxLength": 500},
    "maturity": {"type": "string", "enum": list(MATURITY_TRL), "nullable": True},
    "transfer_modes": {"type": "array", "items": {"type": "string", "enum": list(TRANSFER_MODES)}},
    "patents": STRING_LIST,
    "price_min": AMOUNT,
    "price_max": AMOUNT,
}
NEED_INPUT = {
    "budget_min": AMOUNT,
    "budget_max": AMOUNT,
    "deadline": {"type": "string", "format": "date", "nullable": True},
    "cooperation_modes": {
        "type": "array",
        "items": {"type": "string", "enum": list(TRANSFER_MODES)},
    },
    "is_bottleneck": {"type": "boolean"},
}


def _output(extra: dict) -> dict:
    props = {key: value for key, value in COMMON_INPUT.items() if key != "organization_id"}
    props.update(extra)
    props.update(
        id={"type": "integer"},
        kind={"type": "string"},
        status={"type": "string", "enum": list(LISTING_STATUSES)},
        organization={"type": "object"},
        revision={"type": "integer"},
        review_note={"type": "string"},
        created_at={"type": "string"},
        updated_at={"type": "string", "nullable": True},
        published_at={"type": "string", "nullable": True},
        fields=STRING_LIST,
    )
    return {"type": "object", "properties": props, "required": ["id", "title", "status"]}


def _schemas() -> None:
    schemas = SPEC["components"]["schemas"]
    schemas["AchievementInput"] = {
        "type": "object",
        "properties": {**COMMON_INPUT, **ACHIEVEMENT_INPUT, "submit": {"type": "boolean"}},
    }
    schemas["NeedInput"] = {
        "type": "object",
        "properties": {**COMMON_INPUT, **NEED_INPUT, "submit": {"type": "boolean"}},
    }
    schemas["Achievement"] = _output(
        {**ACHIEVEMENT_INPUT, "trl": {"type": "integer", "nullable": True}}
    )
    schemas["Need"] = _output(NEED_INPUT)
    for name in ("Achievement", "Need"):
        schemas[f"{name}Page"] = {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}},
                "page": {"type": "integer"},
                "per_page": {"type": "integer"},
                "total": {"type": "integer"},
                "pages": {"type": "integer"},
                "terms": STRING_LIST,
            },
        }
    schemas["Review"] = {
        "type": "object",
        "properties": {
            "decision": {"type": "string", "enum": ["publish", "return", "reject"]},
            "reason": {"type": "string", "maxLength": 1000},
        },
        "required": ["decision"],
    }


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _filters(kind: str) -> list[dict]:
    params = [
        _query("q", "full-text search over title, keywords and description (jieba tokens)"),
        _query("field", "field id (技术领域)", {"type": "integer"}),
        _query(
            "mode", "transfer or cooperation mode", {"type": "string", "enum": list(TRANSFER_MODES)}
        ),
        _query("min", "lowest price/budget, 万元", {"type": "number", "minimum": 0}),
        _query("max", "highest price/budget, 万元", {"type": "number", "minimum": 0}),
        _query("region", "organization region contains"),
        _query("org_kind", "organization kind", {"type": "string", "enum": list(ORG_KINDS)}),
        _query("since", "published on or after", {"type": "string", "format": "date"}),
        _query(
            "status",
            "status (own organization's or staff)",
            {"type": "string", "enum": list(LISTING_STATUSES)},
        ),
        _query(
            "scope",
            "`mine`: own organization's listings in every status",
            {"type": "string", "enum": ["mine"]},
        ),
        _query(
            "sort",
            "relevance (default) or newest",
            {"type": "string", "enum": ["relevance", "newest"]},
        ),
        _query("page", "page number", {"type": "integer", "minimum": 1, "maximum": 100000}),
        _query("per_page", "page size (≤100)", {"type": "integer", "minimum": 1, "maximum": 100}),
    ]
    if kind == "achievement":
        params.append(
            _query("maturity", "maturity stage", {"type": "string", "enum": list(MATURITY_TRL)})
        )
    else:
        params.append(
            _query("bottleneck", "1: only 卡脖子 needs", {"type": "string", "enum": ["1", "0"]})
        )
    return params


ID = {"name": "listing_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def document_listings() -> None:
    """Describe every listing operation in the OpenAPI document."""
    _schemas()
    for kind, plural, model, label in (
        ("achievement", "achievements", "Achievement", "科技成果"),
        ("need", "needs", "Need", "技术需求"),
    ):
        base = f"/api/v1/{plural}"
        one = {"200": {"description": label, "content": _json(model)}}
        document(
            base,
            "get",
            {
                "summary": f"Search published {plural} (own drafts with scope=mine)",
                "tags": [plural],
                "parameters": _filters(kind),
                "responses": {
                    "200": {"description": "one page", "content": _json(f"{model}Page")},
                    **_errors("400", "401"),
                },
            },
        )
        document(
            base,
            "post",
            {
                "summary": f"Create a {kind} (draft, or pending review with submit=true)",
                "tags": [plural],
                "requestBody": {"required": True, "content": _json(f"{model}Input")},
                "responses": {
                    "201": {"description": "created", "content": _json(model)},
                    **_errors("400", "401", "403"),
                },
            },
        )
        document(
            f"{base}/{{listing_id}}",
            "get",
            {
                "summary": f"One {kind}",
                "tags": [plural],
                "parameters": [ID],
                "responses": {**one, **_errors("401", "404")},
            },
        )
        document(
            f"{base}/{{listing_id}}",
            "patch",
            {
                "summary": f"Edit a {kind} of one's own organization (only given keys change)",
                "tags": [plural],
                "parameters": [ID],
                "requestBody": {"required": True, "content": _json(f"{model}Input")},
                "responses": {**one, **_errors("400", "401", "403", "404", "409")},
            },
        )
        for action, text in (
            ("submit", "Send a draft or returned listing to review"),
            ("withdraw", "Take a pending or published listing back to draft"),
            ("close", "Close a listing"),
        ):
            document(
                f"{base}/{{listing_id}}/{action}",
                "post",
                {
                    "summary": text,
                    "tags": [plural],
                    "parameters": [ID],
                    "responses": {**one, **_errors("400", "401", "403", "404", "409")},
                },
            )
        document(
            f"{base}/{{listing_id}}/review",
            "post",
            {
                "summary": "Staff: publish, return (reason required) or reject (reason required)",
                "tags": [plural],
                "parameters": [ID],
                "requestBody": {"required": True, "content": _json("Review")},
                "responses": {**one, **_errors("400", "401", "403", "404", "409")},
            },
        )
        for tail, text in (
            ("events", "The listing's history"),
            ("suggestions", "Top active suggestions (staff, brokers, owner)"),
        ):
            document(
                f"{base}/{{listing_id}}/{tail}",
                "get",
                {
                    "summary": text,
                    "tags": [plural],
                    "parameters": [ID],
                    "responses": {
                        "200": {
                            "description": text,
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {"items": {"type": "array"}},
                                    }
                                }
                            },
                        },
                        **_errors("401", "404"),
                    },
                },
            )
