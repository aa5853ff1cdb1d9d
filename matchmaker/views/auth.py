"""Register, log in, log out, change password; staff approve new organizations."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from matchmaker.auth import redirect_next, roles_required
from matchmaker.extensions import db
from matchmaker.models import Organization
from matchmaker.services import ServiceError
from matchmaker.services import accounts as service
from matchmaker.views.once import once

bp = Blueprint("auth", __name__, url_prefix="/auth")

ORG_KIND_LABELS = {
    "university": "高校",
    "institute": "科研院所",
    "enterprise": "企业",
    "agency": "技术转移机构",
}


@bp.route("/login", methods=["GET", "POST"])
def login():
    errors = {}
    if request.method == "POST":
        try:
            user = service.authenticate(
                request.form.get("login", ""),
                request.form.get("password", ""),
                request.remote_addr or "",
                current_app.config["LOGIN_MAX_FAILURES"],
                current_app.config["LOGIN_WINDOW_SECONDS"],
            )
        except ServiceError as e:
            errors = e.errors
        else:
            login_user(user, remember=bool(request.form.get("remember")))
            flash(f"欢迎，{user.display_name}", "success")
            return redirect_next()
    status = 429 if "login" in errors and "次数过多" in errors["login"] else 200
    status = 400 if errors and status == 200 else status
    return render_template("auth/login.html", errors=errors, form=request.form), status


@bp.post("/logout")
@roles_required()
def logout():
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("main.index"))


@bp.route("/register", methods=["GET", "POST"])
@once
def register():
    errors = {}
    if request.method == "POST":
        try:
            service.register(request.form.to_dict())
        except ServiceError as e:
            db.session.rollback()
            errors = e.errors or {"form": e.message}
        else:
            flash("注册成功，请登录。新单位需经工作人员审核后方可发布信息。", "success")
            return redirect(url_for("auth.login"))
    orgs = db.session.scalars(
        select(Organization).where(Organization.status == "approved").order_by(Organization.name)
    ).all()
    return render_template(
        "auth/register.html",
        errors=errors,
        form=request.form,
        orgs=orgs,
        kinds=ORG_KIND_LABELS,
    ), (400 if errors else 200)


@bp.route("/password", methods=["GET", "POST"])
@roles_required()
def password():
    errors = {}
    if request.method == "POST":
        try:
            service.change_password(
                current_user.id,
                request.form.get("old_password", ""),
                request.form.get("new_password", ""),
                request.form.get("new_password2", ""),
            )
        except ServiceError as e:
            errors = e.errors
        else:
            flash("密码已修改", "success")
            return redirect(url_for("main.index"))
    return render_template("auth/password.html", errors=errors), (400 if errors else 200)


@bp.get("/organizations")
@roles_required("staff")
def organizations():
    orgs = db.session.scalars(
        select(Organization).order_by(Organization.status.desc(), Organization.created_at.desc())
    ).all()
    return render_template("auth/organizations.html", orgs=orgs, kinds=ORG_KIND_LABELS)


@bp.post("/organizations/<int:org_id>/review")
@roles_required("staff")
def review_organization(org_id: int):
    approve = request.form.get("decision") == "approve"
    org = service.approve_organization(org_id, approve)
    flash(f"已{'通过' if approve else '驳回'}：{org.name}", "success")
    return redirect(url_for("auth.organizations"))
