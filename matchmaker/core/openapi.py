"""The OpenAPI 3 document; feature modules add their paths with `document`."""

from flask import jsonify

from matchmaker.core.api import bp
from matchmaker.core.paging import MAX_PAGE

SPEC: dict = {
    "openapi": "3.0.3",
    "info": {
        "title": "matchmaker API",
        "version": "1.0.0",
        "description": "科技成果转化对接平台 JSON API",
    },
    "servers": [{"url": "/"}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "properties": {
                    "error": {"type": "string"},
                    "message": {"type": "string"},
                    "errors": {"type": "object", "additionalProperties": {"type": "string"}},
                },
                "required": ["error", "message"],
            }
        },
    },
    "security": [{"bearer": []}],
    "paths": {},
}


def paging_parameters(max_per_page: int = 100) -> list[dict]:
    """The `page` and `per_page` query parameters that core.paging reads."""
    return [
        {
            "name": "page",
            "in": "query",
            "required": False,
            "description": "page number",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
        },
        {
            "name": "per_page",
            "in": "query",
            "required": False,
            "description": f"page size (≤{max_per_page})",
            "schema": {"type": "integer", "minimum": 1, "maximum": max_per_page},
        },
    ]


def document(path: str, method: str, operation: dict) -> None:
    """Add one operation to the published document."""
    SPEC["paths"].setdefault(path, {})[method.lower()] = operation


document(
    "/api/v1/me",
    "get",
    {
        "summary": "The signed-in user",
        "responses": {"200": {"description": "the user"}, "401": {"description": "not signed in"}},
    },
)


@bp.get("/openapi.json")
def openapi():
    return jsonify(SPEC)
