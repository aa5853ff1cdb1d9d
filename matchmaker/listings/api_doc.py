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


ITEMS = {
    "application/json": {"schema": {"type": "object", "properties": {"items": {"type": "array"}}}}
}
ALL_ERRORS = ("400", "401", "403", "404", "409")
# (method, path after the listing, summary, request body, errors); {kind}/{plural} filled in.
OPERATIONS = (
    ("get", "", "Search published {plural} (own drafts with scope=mine)", None, ("400", "401")),
    ("post", "", "Create a {kind} (draft, or pending review with submit=true)", "{model}Input",
     ("400", "401", "403")),
    ("get", "/{{listing_id}}", "One {kind}", None, ("401", "404")),
    ("patch", "/{{listing_id}}", "Edit a {kind} of one's own organization (only given keys change)",
     "{model}Input", ALL_ERRORS),
    ("post", "/{{listing_id}}/submit", "Send a draft or returned listing to review", None,
     ALL_ERRORS),
    ("post", "/{{listing_id}}/withdraw", "Take a pending or published listing back to draft", None,
     ALL_ERRORS),
    ("post", "/{{listing_id}}/close", "Close a listing", None, ALL_ERRORS),
    ("post", "/{{listing_id}}/review",
     "Staff: publish, return (reason required) or reject (reason required)", "Review", ALL_ERRORS),
    ("get", "/{{listing_id}}/events", "The listing's history", None, ("401", "404")),
    ("get", "/{{listing_id}}/suggestions", "Top active suggestions (staff, brokers, owner)", None,
     ("401", "404")),
)  # fmt: skip


def _answer(method: str, tail: str, summary: str, model: str, label: str) -> dict:
    """The success response: a page for the search, the list for a sub-collection, else one."""
    if tail == "":
        if method == "get":
            return {"200": {"description": "one page", "content": _json(f"{model}Page")}}
        return {"201": {"description": "created", "content": _json(model)}}
    if tail.endswith(("events", "suggestions")):
        return {"200": {"description": summary, "content": ITEMS}}
    return {"200": {"description": label, "content": _json(model)}}


def document_listings() -> None:
    """Describe every listing operation in the OpenAPI document."""
    _schemas()
    for kind, plural, model, label in (
        ("achievement", "achievements", "Achievement", "科技成果"),
        ("need", "needs", "Need", "技术需求"),
    ):
        for method, tail, summary, body, codes in OPERATIONS:
            names = {"kind": kind, "plural": plural, "model": model}
            tail, summary = tail.format(**names), summary.format(**names)
            operation = {"summary": summary, "tags": [plural]}
            if tail:
                operation["parameters"] = [ID]
            elif method == "get":
                operation["parameters"] = _filters(kind)
            if body:
                operation["requestBody"] = {
                    "required": True,
                    "content": _json(body.format(**names)),
                }
            operation["responses"] = {
                **_answer(method, tail, summary, model, label),
                **_errors(*codes),
            }
            document(f"/api/v1/{plural}{tail}", method, operation)
