"""Register, log in, log out, change password; staff approve organizations, admins members."""

import math
import time

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_limiter import RateLimitExceeded, RequestLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from matchmaker.accounts import users as service
from matchmaker.accounts.auth import PENDING_MESSAGE, roles_required
from matchmaker.accounts.models import Organization
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.extensions import db, limiter
from matchmaker.core.once import once
from matchmaker.core.safe_redirect import redirect_next

bp = Blueprint("auth", __name__, url_prefix="/auth", template_folder="templates")

ORG_KIND_LABELS = {
    "university": "高校",
    "institute": "科研院所",
    "enterprise": "企业",
    "agency": "技术转移机构",
}


def _login_and_address() -> str:
    return f"{service.login_key(request.form.get('login', ''))}|{get_remote_address()}"


# Kept in the request's environ, not g: g belongs to the app context, which a test (or CLI)
# may keep across requests.
FAILED, WAIT = "matchmaker.login_failed", "matchmaker.login_wait"


def _login_failed(response) -> bool:
    # Only wrong passwords count: the right one never uses up an allowance.
    return bool(request.environ.get(FAILED))


def _too_many(limit: RequestLimit):
    # Called for every breached limit (RATELIMIT_FAIL_ON_FIRST_BREACH off); the last response
    # wins, so each one tells the longest wait found so far.
    seconds = max(1, math.ceil(limit.reset_at - time.time()))
    whose = "该网络地址" if limit.request_args[-1].endswith(":login-address") else "该账号"
    if seconds <= request.environ.get(WAIT, (0, ""))[0]:
        seconds, whose = request.environ[WAIT]
    request.environ[WAIT] = (seconds, whose)
    minutes = math.ceil(seconds / 60)
    errors = {"login": f"{whose}登录失败次数过多，请{minutes}分钟后再试"}
    response = current_app.make_response(
        (render_template("accounts/login.html", errors=errors, form=request.form), 429)
    )
    response.headers["Retry-After"] = str(seconds)
    return response


@bp.errorhandler(RateLimitExceeded)
def _rate_limited(e: RateLimitExceeded):
    return e.get_response()


# Failed sign-ins slow down per (login, address): each window a longer wait. An address's
# failures across all logins are limited by rate, so an office behind one NAT is never locked
# out for long, and nobody elsewhere can lock an account by failing for it.
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMITS_PER_ACCOUNT"],
    key_func=_login_and_address,
    methods=["POST"],
    scope="login-account",
    deduct_when=_login_failed,
    on_breach=_too_many,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMITS_PER_ADDRESS"],
    key_func=get_remote_address,
    methods=["POST"],
    scope="login-address",
    deduct_when=_login_failed,
    on_breach=_too_many,
)
def login():
    errors = {}
    if request.method == "POST":
        try:
            user = service.authenticate(
                request.form.get("login", ""), request.form.get("password", "")
            )
        except ServiceError as e:
            request.environ[FAILED] = e.field == "password"
            errors = e.errors
        else:
            login_user(user, remember=bool(request.form.get("remember")))
            if not user.is_member:
                flash(PENDING_MESSAGE, "warning")
                return redirect(url_for("main.index"))
            flash(f"欢迎，{user.display_name}", "success")
            return redirect_next()
    return render_template("accounts/login.html", errors=errors, form=request.form), (
        400 if errors else 200
    )


@bp.post("/logout")
@roles_required(members_only=False)
def logout():
    # Ends every session of this user, on every device, remember-me cookies included.
    service.end_sessions(current_user.id)
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
            if request.form.get("organization_id"):
                flash("注册成功。加入单位的申请需经单位管理员或工作人员审核后方可使用。", "success")
            else:
                flash("注册成功，请登录。新单位需经工作人员审核后方可发布信息。", "success")
            return redirect(url_for("auth.login"))
    orgs = db.session.scalars(
        select(Organization).where(Organization.status == "approved").order_by(Organization.name)
    ).all()
    return render_template(
        "accounts/register.html",
        errors=errors,
        form=request.form,
        orgs=orgs,
        kinds=ORG_KIND_LABELS,
    ), (400 if errors else 200)


@bp.route("/password", methods=["GET", "POST"])
@roles_required(members_only=False)
def password():
    errors = {}
    if request.method == "POST":
        try:
            user = service.change_password(
                current_user.id,
                request.form.get("old_password", ""),
                request.form.get("new_password", ""),
                request.form.get("new_password2", ""),
            )
        except ServiceError as e:
            errors = e.errors
        else:
            # Every other session ended with the new password; this one continues.
            login_user(user)
            flash("密码已修改，其他设备上的登录已失效", "success")
            return redirect(url_for("main.index"))
    return render_template("accounts/password.html", errors=errors), (400 if errors else 200)


@bp.get("/organizations")
@roles_required("staff")
def organizations():
    orgs = db.session.scalars(
        select(Organization).order_by(Organization.status.desc(), Organization.created_at.desc())
    ).all()
    return render_template("accounts/organizations.html", orgs=orgs, kinds=ORG_KIND_LABELS)


@bp.post("/organizations/<int:org_id>/review")
@roles_required("staff")
def review_organization(org_id: int):
    approve = request.form.get("decision") == "approve"
    org = service.approve_organization(org_id, approve)
    flash(f"已{'通过' if approve else '驳回'}：{org.name}", "success")
    return redirect(url_for("auth.organizations"))


@bp.get("/members")
@roles_required("institute", "enterprise", "staff")
def members():
    return render_template(
        "accounts/members.html",
        applicants=service.pending_members(current_user),
        kinds=ORG_KIND_LABELS,
    )


@bp.post("/members/<int:user_id>/review")
@roles_required("institute", "enterprise", "staff")
def review_member(user_id: int):
    approve = request.form.get("decision") == "approve"
    user = service.review_member(user_id, approve, current_user)
    flash(f"已{'通过' if approve else '拒绝'} {user.display_name} 的加入申请", "success")
    return redirect(url_for("auth.members"))
