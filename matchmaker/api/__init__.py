"""The JSON API, /api/v1: the same services as the web pages, token or session authenticated."""

from flask import Blueprint, request
from flask_login import current_user

from matchmaker.auth import is_bearer_request
from matchmaker.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.before_request
def protect_session_writes():
    # Bearer requests carry their own credential; cookie-authenticated writes still need CSRF.
    # A request that no session authenticates gets the endpoint's 401 rather than a CSRF error.
    if (
        request.method not in ("GET", "HEAD", "OPTIONS")
        and not is_bearer_request()
        and current_user.is_authenticated
    ):
        csrf.protect()


# Each module registers its routes on bp.
from matchmaker.api import fairs, listings, me, openapi, pairs, runs  # noqa: E402,F401
from matchmaker.challenges import api as _challenges_api  # noqa: E402,F401
