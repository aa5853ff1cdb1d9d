"""Who is asking: session login, bearer tokens, and role checks for views and the API."""

from functools import wraps

from flask import Flask, abort, flash, g, jsonify, request
from flask_login import current_user

from matchmaker.extensions import db, login
from matchmaker.models import User


def init_login(app: Flask) -> None:
    login.login_view = "auth.login"
    login.login_message = "请先登录"
    login.login_message_category = "warning"

    @app.before_request
    def _forget_cached_user():
        # A request inside an app context that is already pushed (a test, a CLI call) would
        # otherwise inherit the previous request's user from g.
        g.pop("_login_user", None)


@login.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.is_active else None


@login.request_loader
def load_user_from_bearer(req) -> User | None:
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    from matchmaker.services.accounts import user_for_token

    return user_for_token(header[len("Bearer ") :].strip())


def is_token_authenticated() -> bool:
    """Whether this request acts through a valid bearer token (and so needs no CSRF token).

    A mere `Authorization: Bearer ...` header proves nothing: only a live token of the user the
    request acts as does. A cookie session sent along with a junk or foreign token still needs
    CSRF on writes.
    """
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not current_user.is_authenticated:
        return False
    from matchmaker.services.accounts import user_for_token

    user = user_for_token(header[len("Bearer ") :].strip())
    return user is not None and user.id == current_user.id


def roles_required(*roles: str):
    """Allow a view only to signed-in users of the given roles (any role when none given)."""

    def decorate(view):
        # Kept on the view so the role-matrix test can try every role against every endpoint.
        view.allowed_roles = roles or ("*",)

        @wraps(view)
        def wrapper(*args, **kwargs):
            is_api = request.blueprint == "api"
            if not current_user.is_authenticated:
                if is_api:
                    return jsonify(error="unauthorized", message="需要登录或有效的令牌"), 401
                return login.unauthorized()
            if roles and current_user.role not in roles:
                if is_api:
                    return jsonify(error="forbidden", message="当前角色无权执行此操作"), 403
                flash("当前角色无权访问该页面", "danger")
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate
