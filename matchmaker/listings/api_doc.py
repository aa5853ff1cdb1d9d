"""OpenAPI operations of the listing endpoints; their schemas come from listings.schemas."""

from matchmaker.core.openapi import SPEC, document, paging_parameters
from matchmaker.core.schemas import component, query_parameters
from matchmaker.listings.filter_schema import FILTERS_NOT_FOR, ListingFilters
from matchmaker.listings.models import LISTING_STATUSES
from matchmaker.listings.schemas import (
    AchievementBody,
    AchievementInput,
    NeedBody,
    NeedInput,
    Review,
)

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
# What the API shows beyond what it accepts (or shows differently: fields by name).
OUTPUT_ONLY = {
    "id": {"type": "integer"},
    "kind": {"type": "string"},
    "status": {"type": "string", "enum": list(LISTING_STATUSES)},
    "organization": {"type": "object"},
    "revision": {"type": "integer"},
    "review_note": {"type": "string"},
    "created_at": {"type": "string"},
    "updated_at": {"type": "string", "nullable": True},
    "published_at": {"type": "string", "nullable": True},
    "fields": STRING_LIST,
    "hidden": STRING_LIST,
}


def _output(model, extra: dict | None = None) -> dict:
    props = dict(component(model)["properties"])
    props.update(OUTPUT_ONLY, **(extra or {}))
    return {"type": "object", "properties": props, "required": ["id", "title", "status"]}


def _schemas() -> None:
    schemas = SPEC["components"]["schemas"]
    schemas["AchievementInput"] = component(AchievementBody)
    schemas["NeedInput"] = component(NeedBody)
    schemas["Achievement"] = _output(
        AchievementInput, {"trl": {"type": "integer", "nullable": True}}
    )
    schemas["Need"] = _output(NeedInput)
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
    schemas["Review"] = component(Review)


def _filters(kind: str) -> list[dict]:
    return query_parameters(ListingFilters, skip=FILTERS_NOT_FOR[kind]) + paging_parameters()


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
