"""Pages of the bottleneck list and of applications to solve a listed problem.

The agency and broker pages (agency_views.py) and contract registration (registration_views.py)
add their routes to this blueprint.
"""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from matchmaker.accounts.auth import roles_required
from matchmaker.accounts.models import Organization
from matchmaker.challenges import applications, bottlenecks, exports, support
from matchmaker.challenges.models import (
    AGENCY_LEVELS,
    APPLICATION_STATUS_LABELS,
    CATEGORIES,
    DIFFICULTIES,
    ENTRY_STATUS_LABELS,
    REMOVAL_REASONS,
    REVIEW_CRITERIA,
    BottleneckEntry,
)
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.extensions import db
from matchmaker.listings.models import Achievement
from matchmaker.listings.taxonomy import all_fields

bp = Blueprint("challenges", __name__, url_prefix="/challenges", template_folder="templates")


@bp.context_processor
def labels():
    return {
        "entry_status_labels": ENTRY_STATUS_LABELS,
        "application_status_labels": APPLICATION_STATUS_LABELS,
        "agency_levels": AGENCY_LEVELS,
    }


def _viewer():
    return current_user if current_user.is_authenticated else None


def _fail(e: ServiceError, back: str):
    db.session.rollback()
    if e.status in (403, 404):
        abort(e.status, e.message)
    detail = "；".join(e.errors.values()) if e.errors else ""
    flash(f"{e.message}{'：' + detail if detail else ''}", "danger")
    return redirect(back)


def _act(back: str, done: str, action):
    """Run one service call for a staff form: flash `done` and go back, or say what was wrong."""
    try:
        action()
    except ServiceError as e:
        return _fail(e, back)
    flash(done, "success")
    return redirect(back)


# --- the public list -------------------------------------------------------------------------


@bp.get("/")
def index():
    version = bottlenecks.latest_version()
    return render_template(
        "challenges/list.html",
        rows=bottlenecks.public_rows(),
        version=version,
        columns=exports.LIST_COLUMNS,
    )


@bp.get("/list.xlsx")
def export_list():
    return Response(
        exports.list_xlsx(bottlenecks.public_rows()),
        mimetype=exports.XLSX,
        headers={"Content-Disposition": "attachment; filename=bottleneck-list.xlsx"},
    )


@bp.get("/versions")
def versions():
    return render_template("challenges/versions.html", versions=bottlenecks.versions())


@bp.get("/entries/<int:problem_id>")
def entry(problem_id: int):
    row = db.get_or_404(BottleneckEntry, problem_id)
    viewer = _viewer()
    is_staff = viewer is not None and viewer.role == "staff"
    if not (is_staff or bottlenecks.is_public(row)):
        abort(404)
    visible = applications.visible_for_entry(row, viewer)
    # One ranking of the need serves every application's linked achievements.
    linked = applications.linked_scores(
        row.need, sorted({x.achievement_id for a in visible for x in a.achievements})
    )
    scores = {
        a.id: {x.achievement_id: linked[x.achievement_id] for x in a.achievements} for a in visible
    }
    chosen = next((a for a in row.applications if a.status == "chosen"), None)
    return render_template(
        "challenges/entry.html",
        entry=row,
        applications=visible,
        scores=scores,
        averages={a.id: applications.average_total(a) for a in visible},
        chosen=chosen,
        can_apply=applications.can_apply(viewer, row),
        is_staff=is_staff,
        history=bottlenecks.history(row.id) if is_staff else [],
        fields=all_fields() if is_staff else [],
        categories=CATEGORIES,
        difficulties=DIFFICULTIES,
        removal_reasons=REMOVAL_REASONS,
    )


# --- staff: screening, classifying, publishing ------------------------------------------------


@bp.get("/screening")
@roles_required("staff")
def screening():
    bottlenecks.sync_with_needs()
    return render_template(
        "challenges/screening.html",
        queue=bottlenecks.screening_queue(),
        entries=bottlenecks.entries_for_staff(),
        listed=bottlenecks.listed(),
        latest=bottlenecks.latest_version(),
    )


@bp.post("/screening/<int:need_id>")
@roles_required("staff")
def screen(need_id: int):
    try:
        entry = bottlenecks.screen(
            need_id,
            current_user.id,
            request.form.get("decision", ""),
            request.form.get("reason", ""),
            request.form.get("merge_into"),
        )
    except ServiceError as e:
        return _fail(e, url_for("challenges.screening"))
    flash(f"已处理：{ENTRY_STATUS_LABELS[entry.status]}", "success")
    return redirect(url_for("challenges.screening"))


@bp.post("/entries/<int:problem_id>/classify")
@roles_required("staff")
def classify(problem_id: int):
    return _act(
        url_for("challenges.entry", problem_id=problem_id),
        "分类已保存",
        lambda: bottlenecks.classify(problem_id, current_user.id, request.form),
    )


@bp.post("/entries/<int:problem_id>/remove")
@roles_required("staff")
def remove(problem_id: int):
    form = request.form
    return _act(
        url_for("challenges.entry", problem_id=problem_id),
        "已移出清单",
        lambda: bottlenecks.remove(
            problem_id, current_user.id, form.get("reason", ""), form.get("note", "")
        ),
    )


@bp.post("/publish")
@roles_required("staff")
def publish():
    try:
        version = bottlenecks.publish(current_user.id, note=request.form.get("note", ""))
    except ServiceError as e:
        return _fail(e, url_for("challenges.screening"))
    flash(f"已发布{version.year}年清单第{version.version}版（{len(version.rows)}项）", "success")
    return redirect(url_for("challenges.index"))


# --- applications ------------------------------------------------------------------------------


@bp.route("/entries/<int:problem_id>/apply", methods=["GET", "POST"])
@roles_required("institute")
def apply(problem_id: int):
    row = db.get_or_404(BottleneckEntry, problem_id)
    if not applications.can_apply(current_user, row):
        abort(403, "只有已审核的高校和科研机构可以揭榜清单中已发布的问题")
    errors, form = {}, request.form
    if request.method == "POST":
        raw = form.to_dict()
        raw["partner_ids"] = form.getlist("partner_ids")
        raw["achievement_ids"] = form.getlist("achievement_ids")
        files = [(f.filename, f.read()) for f in request.files.getlist("attachments") if f.filename]
        try:
            application = applications.apply(row.id, current_user.id, raw, files)
        except ServiceError as e:
            db.session.rollback()
            if e.status in (403, 404):
                abort(e.status, e.message)
            errors = e.errors or {"approach": e.message}
        else:
            flash("揭榜申请已提交", "success")
            return redirect(url_for("challenges.application", application_id=application.id))
    own = db.session.scalars(
        db.select(Achievement)
        .where(
            Achievement.organization_id == current_user.organization_id,
            Achievement.status == "published",
        )
        .order_by(Achievement.id)
    ).all()
    partners = db.session.scalars(
        db.select(Organization)
        .where(Organization.status == "approved", Organization.id != current_user.organization_id)
        .order_by(Organization.name)
    ).all()
    return render_template(
        "challenges/apply.html",
        entry=row,
        own_achievements=own,
        partners=partners,
        errors=errors,
        form=form,
    ), (400 if errors else 200)


@bp.get("/applications/<int:application_id>")
@roles_required()
def application(application_id: int):
    try:
        row = applications.get_visible(application_id, current_user.id)
    except ServiceError as e:
        abort(e.status, e.message)
    return render_template(
        "challenges/application.html",
        application=row,
        scores=applications.linked_scores(
            row.entry.need, [a.achievement_id for a in row.achievements]
        ),
        average=applications.average_total(row),
        support=support.support_totals(row),
        criteria=REVIEW_CRITERIA,
        is_staff=current_user.role == "staff",
    )


@bp.get("/applications/<int:application_id>/attachments/<int:attachment_id>")
@roles_required()
def attachment(application_id: int, attachment_id: int):
    try:
        row = applications.attachment(application_id, attachment_id, current_user.id)
    except ServiceError as e:
        abort(e.status, e.message)
    return Response(
        row.data,
        mimetype=row.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(row.filename)}",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@bp.post("/applications/<int:application_id>/reviews")
@roles_required("staff")
def review(application_id: int):
    return _act(
        url_for("challenges.application", application_id=application_id),
        "专家评审意见已录入",
        lambda: applications.add_review(application_id, current_user.id, request.form),
    )


@bp.post("/applications/<int:application_id>/choose")
@roles_required("staff")
def choose(application_id: int):
    back = url_for("challenges.application", application_id=application_id)
    try:
        row = applications.choose(application_id, current_user.id, request.form.get("note", ""))
    except ServiceError as e:
        return _fail(e, back)
    flash(f"已选定{row.lead_org.name}揭榜，配对已推荐给双方", "success")
    return redirect(url_for("workbench.pair", pair_id=row.suggestion_id))


@bp.post("/applications/<int:application_id>/stages")
@roles_required("staff")
def add_stage(application_id: int):
    return _act(
        url_for("challenges.application", application_id=application_id),
        "支持资金已登记",
        lambda: support.add_stage(application_id, current_user.id, request.form),
    )


@bp.post("/stages/<int:stage_id>/release")
@roles_required("staff")
def release_stage(stage_id: int):
    try:
        stage = support.release_stage(stage_id, current_user.id, request.form.get("released_on"))
    except ServiceError as e:
        return _fail(e, url_for("challenges.index"))
    flash("已登记拨付", "success")
    return redirect(url_for("challenges.application", application_id=stage.application_id))
