"""The JSON API, /api/v1: the same services as the web pages, token or session authenticated."""

from flask import Blueprint, request

from matchmaker.auth import is_bearer_request
from matchmaker.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.before_request
def protect_session_writes():
    # Bearer requests carry their own credential; cookie-authenticated writes still need CSRF.
    if request.method not in ("GET", "HEAD", "OPTIONS") and not is_bearer_request():
        csrf.protect()


from matchmaker.api import listings, me, openapi  # noqa: E402,F401  (routes register on bp)
