"""The home page."""

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from matchmaker.accounts.models import Organization
from matchmaker.core.extensions import db
from matchmaker.dashboard.home import home_for
from matchmaker.listings.models import Achievement, Need
from matchmaker.pairs.models import Suggestion

bp = Blueprint("main", __name__)


@bp.record_once
def _filters(state) -> None:
    from matchmaker.core import display
    from matchmaker.pairs.notices import recommendation_note

    display.init_app(state.app)
    state.app.add_template_global(recommendation_note, "recommendation_note")


@bp.get("/")
def index():
    counts = {
        "achievements": db.session.scalar(
            select(func.count(Achievement.id)).where(Achievement.status == "published")
        ),
        "needs": db.session.scalar(select(func.count(Need.id)).where(Need.status == "published")),
        "organizations": db.session.scalar(
            select(func.count(Organization.id)).where(Organization.status == "approved")
        ),
        "suggestions": db.session.scalar(
            select(func.count(Suggestion.id)).where(Suggestion.active.is_(True))
        ),
    }
    user = current_user if current_user.is_authenticated else None
    return render_template(
        "dashboard/home.html", counts=counts, user=current_user, home=home_for(user)
    )


@bp.get("/healthz")
def healthz():
    """For load balancers and monitoring: the app answers and its database does; 503 if not."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as e:
        db.session.rollback()
        reason = str(e.orig if getattr(e, "orig", None) else e).strip().splitlines()[0]
        return {"status": "error", "database": "unreachable", "error": reason[:200]}, 503
    return {"status": "ok", "database": "ok"}
