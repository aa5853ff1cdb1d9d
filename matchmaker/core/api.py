"""The JSON API, /api/v1: the same services as the web pages, token or session authenticated."""

from flask import Blueprint, current_app, request
from flask_login import current_user

from matchmaker.core.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

MAX_JSON_DEPTH = 32


@bp.before_request
def protect_session_writes():
    # Requests with a valid bearer token carry their own credential; every other write of a
    # signed-in user (a cookie session, with or without a junk Authorization header) needs CSRF.
    # A request that no session authenticates gets the endpoint's 401 rather than a CSRF error.
    # Tokens belong to accounts, which builds on core: accounts.init_app provides the check.
    if (
        request.method not in ("GET", "HEAD", "OPTIONS")
        and current_user.is_authenticated
        and not current_app.extensions["token_authenticated"]()
    ):
        csrf.protect()


@bp.before_request
def check_json_body():
    """Refuse JSON bodies the services cannot store: too deeply nested, or text that is not
    valid Unicode (a lone surrogate such as "\\ud800" parses but cannot be encoded as UTF-8)."""
    if request.method in ("GET", "HEAD", "OPTIONS") or not request.is_json:
        return None
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        return _bad_body(f"JSON 嵌套过深（最多{MAX_JSON_DEPTH}层）")
    problem = json_problem(body)
    return _bad_body(problem) if problem else None


def json_problem(value, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why a parsed JSON value is refused, or None; walks without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > max_depth:
                return f"JSON 嵌套过深（最多{max_depth}层）"
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "JSON 中含有无效的 Unicode 字符（如单独的代理项 \\ud800）"
    return None


def _bad_body(message: str):
    from matchmaker.core.errors import render_error

    return render_error(400, message, {"body": message})


def init_app(app) -> None:
    """Register the API blueprint; every domain's init_app has added its routes to bp by now."""
    from matchmaker.core import openapi  # noqa: F401  (the /openapi.json route)

    app.register_blueprint(bp)
