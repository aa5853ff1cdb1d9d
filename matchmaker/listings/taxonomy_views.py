"""Staff edit the technology field taxonomy: add, rename, merge and retire fields."""

from flask import Blueprint, flash, redirect, render_template, request, url_for

from matchmaker.accounts.auth import roles_required
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.extensions import db
from matchmaker.listings import taxonomy as service

bp = Blueprint("taxonomy", __name__, url_prefix="/admin/fields")


def _page(errors=None, status=200):
    return render_template(
        "listings/fields.html",
        fields=service.all_fields(include_retired=True),
        active=service.all_fields(),
        usage=service.field_usage(),
        errors=errors or {},
        form=request.form,
    ), status


@bp.get("/")
@roles_required("staff")
def index():
    return _page()


def _run(action, message):
    try:
        result = action()
    except ServiceError as e:
        if e.status == 404:
            raise
        db.session.rollback()
        return _page(e.errors or {"form": e.message}, 400)
    flash(message(result), "success")
    return redirect(url_for("taxonomy.index"))


@bp.post("/")
@roles_required("staff")
def add():
    return _run(
        lambda: service.add_field(request.form.get("name")), lambda f: f"已添加领域“{f.name}”"
    )


@bp.post("/<int:field_id>/rename")
@roles_required("staff")
def rename(field_id: int):
    return _run(
        lambda: service.rename_field(field_id, request.form.get("name")),
        lambda f: f"已改名为“{f.name}”",
    )


@bp.post("/<int:field_id>/merge")
@roles_required("staff")
def merge(field_id: int):
    return _run(
        lambda: service.merge_fields(field_id, request.form.get("target_id")),
        lambda n: f"已合并，{n} 条成果和需求随之移到目标领域",
    )


@bp.post("/<int:field_id>/retire")
@roles_required("staff")
def retire(field_id: int):
    return _run(
        lambda: service.retire_field(field_id, request.form.get("target_id") or None),
        lambda n: f"已停用该领域{f'，{n} 条成果和需求已移到所选领域' if n else ''}",
    )


@bp.post("/<int:field_id>/restore")
@roles_required("staff")
def restore(field_id: int):
    return _run(lambda: service.restore_field(field_id), lambda f: f"已恢复领域“{f.name}”")
