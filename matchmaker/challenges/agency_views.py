"""The agencies behind the brokers, their targets, and each broker's profile and trainings."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from matchmaker.accounts.auth import roles_required
from matchmaker.challenges import (
    agencies,
    figures,
)
from matchmaker.challenges.views import _act, bp
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.extensions import db


@bp.get("/agencies")
@roles_required("staff", "broker")
def agencies_page():
    return render_template(
        "challenges/agencies.html",
        rows=list(zip(agencies.agencies(), figures.per_agency(), strict=True)),
        brokers=agencies.brokers(),
        certification=figures.certification(),
        is_staff=current_user.role == "staff",
    )


@bp.post("/agencies/<int:org_id>")
@roles_required("staff")
def set_agency(org_id: int):
    form = request.form
    return _act(
        url_for("challenges.agencies_page"),
        "机构信息已保存",
        lambda: agencies.set_agency(
            org_id, current_user.id, form.get("level", ""), form.get("recognized_on")
        ),
    )


@bp.post("/targets")
@roles_required("staff")
def set_target():
    form = request.form
    return _act(
        url_for("challenges.agencies_page"),
        "年度认证目标已保存",
        lambda: agencies.set_target(current_user.id, form.get("year"), form.get("target")),
    )


@bp.route("/brokers/<int:user_id>", methods=["GET", "POST"])
@roles_required("staff")
def broker(user_id: int):
    try:
        user, profile, trainings = agencies.broker(user_id)
    except ServiceError as e:
        abort(e.status, e.message)
    errors = {}
    if request.method == "POST":
        try:
            agencies.set_broker(user_id, current_user.id, request.form)
        except ServiceError as e:
            db.session.rollback()
            errors = e.errors
        else:
            flash("经纪人信息已保存", "success")
            return redirect(url_for("challenges.broker", user_id=user_id))
    return render_template(
        "challenges/broker.html",
        user=user,
        profile=profile,
        trainings=trainings,
        agencies=agencies.agencies(),
        errors=errors,
        form=request.form,
    ), (400 if errors else 200)


@bp.post("/brokers/<int:user_id>/trainings")
@roles_required("staff")
def add_training(user_id: int):
    return _act(
        url_for("challenges.broker", user_id=user_id),
        "培训记录已添加",
        lambda: agencies.add_training(user_id, current_user.id, request.form),
    )
