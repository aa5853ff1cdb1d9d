"""Staff review of submitted listings: publish, return for revision with a reason, or reject."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from matchmaker.accounts.auth import roles_required
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.extensions import db
from matchmaker.listings import posting as service
from matchmaker.listings.search import review_queue

bp = Blueprint("review", __name__, url_prefix="/review")
DONE = {"publish": "已发布", "return": "已退回修改", "reject": "已标记为不通过"}


@bp.get("/")
@roles_required("staff")
def queue():
    return render_template("listings/review_queue.html", rows=review_queue())


@bp.post("/<any(achievements, needs):kinds>/<int:listing_id>")
@roles_required("staff")
def decide(kinds: str, listing_id: int):
    kind = service.kind_of(kinds)
    decision = request.form.get("decision", "")
    try:
        service.review_listing(
            kind.name, listing_id, current_user.id, decision, request.form.get("reason", "")
        )
    except ServiceError as e:
        if e.status == 404:
            raise
        db.session.rollback()
        listing = service.get_visible(kind.name, listing_id, current_user)
        return render_template(
            "listings/detail.html",
            listing=listing,
            kind=kind,
            kinds=kind.plural,
            can_manage=True,
            show_suggestions=False,
            suggestions=[],
            events=service.history(kind.name, listing.id),
            review_errors=e.errors or {"reason": e.message},
            review_form=request.form,
        ), e.status
    flash(DONE[decision], "success")
    return redirect(url_for("review.queue"))
