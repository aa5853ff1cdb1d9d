"""Who is asking: session login, bearer tokens, the client's address, and role checks."""

from functools import wraps

from flask import Flask, abort, current_app, flash, g, jsonify, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import bindparam, select
from werkzeug.middleware.proxy_fix import ProxyFix

from matchmaker.accounts.models import User
from matchmaker.core.extensions import db, limiter, login


def init_login(app: Flask) -> None:
    # Behind a proxy the client's address is in X-Forwarded-For; trust only as many hops as
    # there are proxies we run (PROXY_FIX_X_FOR=1 for one nginx), or anyone could forge it.
    hops = {
        name: int(app.config.get(f"PROXY_FIX_X_{name.upper()}", 0) or 0)
        for name in ("for", "proto", "host", "port", "prefix")
    }
    if any(hops.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **{f"x_{k}": v for k, v in hops.items()})
    limiter.init_app(app)
    # Figures that domains above this one show beside the user on every page (the header's
    # unread count), loaded with the user's row in one statement: name -> a function of the user
    # id column giving a scalar subquery. A loaded value lands in g under its name.
    app.extensions["user_load_columns"] = {}
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
    """The user of a session or remember cookie, if its session version is still current."""
    uid, _, version = user_id.partition(":")
    if not (uid.isdigit() and version.isdigit() and len(uid) < 10):
        return None  # a cookie from before session versions, or a forged one
    row = db.session.execute(_user_statement(), {"user_id": int(uid)}).first()
    if row is None:
        return None
    user = row[0]
    if not user.is_active or user.session_version != int(version):
        return None
    for name in current_app.extensions["user_load_columns"]:
        setattr(g, name, row._mapping[name])
    return user


def _user_statement():
    # Built once per app (the columns are registered at start-up): building it costs more CPU
    # than running it.
    stmt = current_app.extensions.get("user_load_statement")
    if stmt is None:
        columns = current_app.extensions["user_load_columns"]
        stmt = select(
            User, *(column(User.id).label(name) for name, column in columns.items())
        ).where(User.id == bindparam("user_id"))
        current_app.extensions["user_load_statement"] = stmt
    return stmt


@login.request_loader
def load_user_from_bearer(req) -> User | None:
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    from matchmaker.accounts.users import user_for_token

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
    from matchmaker.accounts.users import user_for_token

    user = user_for_token(header[len("Bearer ") :].strip())
    return user is not None and user.id == current_user.id


PENDING_MESSAGE = "您加入单位的申请正在等待单位管理员或工作人员审核，通过前只能浏览公开页面"


def roles_required(*roles: str, members_only: bool = True):
    """Allow a view only to signed-in users of the given roles (any role when none given).

    A person whose request to join an organization is not approved counts as anonymous,
    unless `members_only=False` (their own account pages: logout, password).
    """

    def decorate(view):
        # Kept on the view so the role-matrix test can try every role against every endpoint.
        view.allowed_roles = roles or ("*",)
        view.members_only = members_only

        @wraps(view)
        def wrapper(*args, **kwargs):
            is_api = request.blueprint == "api"
            signed_in = current_user.is_authenticated and (
                current_user.is_member or not members_only
            )
            if not signed_in:
                if is_api:
                    return jsonify(error="unauthorized", message="需要登录或有效的令牌"), 401
                if current_user.is_authenticated:
                    flash(PENDING_MESSAGE, "warning")
                    return redirect(url_for(login.login_view))
                return login.unauthorized()
            if roles and current_user.role not in roles:
                if is_api:
                    return jsonify(error="forbidden", message="当前角色无权执行此操作"), 403
                flash("当前角色无权访问该页面", "danger")
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate
