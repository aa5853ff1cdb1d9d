"""Staff administration of user accounts: roles (appointing brokers), fields, (de)activation."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from matchmaker.accounts import users as service
from matchmaker.accounts.auth import roles_required
from matchmaker.accounts.fields import all_fields
from matchmaker.accounts.models import ROLES
from matchmaker.accounts.schemas import UserEdit
from matchmaker.core.schemas import check

bp = Blueprint("admin", __name__, url_prefix="/admin")

ROLE_LABELS = {
    "institute": "科研机构",
    "enterprise": "企业",
    "broker": "技术经纪人",
    "staff": "工作人员",
}


def _back():
    # Keep the filter the staff member was looking at.
    return redirect(url_for("admin.users", role=request.args.get("role"), q=request.args.get("q")))


@bp.get("/users")
@roles_required("staff")
def users():
    role = request.args.get("role") if request.args.get("role") in ROLES else None
    query = request.args.get("q", "")
    return render_template(
        "accounts/users.html",
        users=service.list_users(role, query),
        fields=all_fields(),
        roles=ROLE_LABELS,
        role=role,
        query=query,
    )


@bp.post("/users/<int:user_id>/fields")
@roles_required("staff")
def set_fields(user_id: int):
    edit = check(UserEdit, {"field_ids": request.form.getlist("field_ids")}).row
    user = service.set_broker_fields(user_id, edit.field_ids)
    flash(f"已更新 {user.display_name} 负责的领域（{len(user.fields)}个）", "success")
    return _back()


@bp.post("/users/<int:user_id>/active")
@roles_required("staff")
def set_active(user_id: int):
    active = check(UserEdit, {"active": request.form.get("active", "")}).row.active
    user = service.set_user_active(user_id, active, current_user.id)
    flash(f"已{'启用' if active else '停用'}账号：{user.login}", "success")
    return _back()


@bp.post("/users/<int:user_id>/role")
@roles_required("staff")
def set_role(user_id: int):
    user = service.set_role(user_id, request.form.get("role", ""), current_user.id)
    flash(f"已将 {user.login} 的角色设为{ROLE_LABELS[user.role]}", "success")
    return _back()


@bp.post("/users/<int:user_id>/sessions")
@roles_required("staff")
def end_sessions(user_id: int):
    user = service.end_sessions(user_id)
    flash(f"已结束 {user.login} 的全部登录会话", "success")
    return _back()
