"""The OpenAPI 3 document; feature modules add their paths with `document`."""

from flask import jsonify

from matchmaker.core.api import bp

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
