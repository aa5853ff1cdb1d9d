"""Spreadsheet pages for listings: import with a check report, template download, exports."""

from pathlib import Path

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from matchmaker.accounts.auth import roles_required
from matchmaker.core.exceptions import Forbidden, ServiceError
from matchmaker.core.extensions import db
from matchmaker.listings import import_stash
from matchmaker.listings import importing as importer
from matchmaker.listings import posting as service
from matchmaker.listings.confidential import Viewer
from matchmaker.listings.files import MAX_BYTES, MAX_ROWS, MIMETYPES
from matchmaker.listings.search import parse_filters, search
from matchmaker.listings.views import KINDS, bp

EXPORT_LIMIT = 10000


def _download(data: bytes, fmt: str, name: str) -> Response:
    from urllib.parse import quote

    filename = f"{name}.{fmt}"
    return Response(
        data,
        content_type=MIMETYPES[fmt],
        headers={
            "Content-Disposition": f"attachment; filename=export.{fmt}; "
            f"filename*=UTF-8''{quote(filename)}",
            "X-Content-Type-Options": "nosniff",
        },
    )


@bp.get(f"/{KINDS}/import/template.<any(xlsx, csv):fmt>")
@roles_required()
def template(kinds: str, fmt: str):
    kind = service.kind_of(kinds)
    return _download(importer.template(kind.name, fmt), fmt, f"{kind.label}导入模板")


def _uploads() -> Path:
    # Shared by every web machine when IMPORT_UPLOAD_DIR names a common mount (see README).
    configured = current_app.config.get("IMPORT_UPLOAD_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "imports"


def _render(kind, status=200, **context):
    statuses = ["pending", "draft"] + (["published"] if current_user.role == "staff" else [])
    return render_template(
        "listings/import.html",
        kind=kind,
        kinds=kind.plural,
        statuses=statuses,
        columns=importer.COLUMNS[kind.name],
        required=importer.REQUIRED,
        notes=importer.NOTES,
        max_rows=MAX_ROWS,
        max_mb=MAX_BYTES // 1024 // 1024,
        errors=context.pop("errors", {}),
        **context,
    ), status


@bp.route(f"/{KINDS}/import", methods=["GET", "POST"], endpoint="import_")
@roles_required("institute", "enterprise", "staff")
def import_file(kinds: str):
    kind = service.kind_of(kinds)
    if current_user.role not in ("staff", kind.role):
        raise Forbidden(f"当前角色不能导入{kind.label}")
    if request.method == "GET":
        return _render(kind)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _render(kind, 400, errors={"file": "请选择要上传的 .xlsx 或 .csv 文件"})
    data = upload.stream.read(MAX_BYTES + 1)
    status = request.form.get("status", "pending")
    try:
        report = importer.check_file(kind.name, current_user.id, upload.filename, data)
    except ServiceError as e:
        if e.status == 403:
            raise
        return _render(kind, 400, errors=e.errors or {"file": e.message})
    token = None
    if report.good:  # keep only what can still be imported
        token = import_stash.stash(
            _uploads(),
            current_user.id,
            current_user.organization_id,
            kind.name,
            upload.filename,
            data,
        )
    return _render(kind, report=report, token=token, filename=upload.filename, import_status=status)


@bp.post(f"/{KINDS}/import/<token>", endpoint="import_confirm")
@roles_required("institute", "enterprise", "staff")
def import_confirm(kinds: str, token: str):
    kind = service.kind_of(kinds)
    filename, data = import_stash.unstash(_uploads(), token, current_user.id, kind.name)
    only_good = request.form.get("mode") == "good"
    status = request.form.get("status", "pending")
    try:
        report, created = importer.import_file(
            kind.name, current_user.id, filename, data, status=status, only_good=only_good
        )
    except ServiceError as e:
        if e.status == 403:
            raise
        db.session.rollback()
        flash(e.message, "danger")
        return redirect(url_for("listings.import_", kinds=kind.plural))
    import_stash.discard(_uploads(), token)
    skipped = f"，跳过有问题的 {report.bad_rows} 行" if report.bad_rows else ""
    flash(f"已导入 {len(created)} 条{kind.label}{skipped}", "success")
    scope = {} if current_user.role == "staff" else {"scope": "mine"}
    if current_user.role == "staff" and status != "published":
        scope = {"status": status}
    return redirect(url_for("listings.index", kinds=kind.plural, **scope))


# Public like the catalogue; confidential parts are left blank for whoever may not see them.
@bp.get(f"/{KINDS}/export.<any(xlsx, csv):fmt>")
def export(kinds: str, fmt: str):
    kind = service.kind_of(kinds)
    user = current_user if current_user.is_authenticated else None
    filters = parse_filters(kind.name, request.args)
    if filters.mine and user is None:
        return current_app.login_manager.unauthorized()
    rows = search(kind.name, user, filters, 1, EXPORT_LIMIT).items
    viewer = Viewer(user, kind.name)
    data = importer.export_listings(kind.name, rows, fmt, viewer=viewer)
    return _download(data, fmt, kind.label)


@bp.get("/suggestions/export.<any(xlsx, csv):fmt>")
@roles_required()
def export_suggestions(fmt: str):
    kind = request.args.get("kind") or None
    listing_id = request.args.get("listing_id", type=int)
    rows = importer.suggestions_for_export(current_user, kind, listing_id)
    return _download(importer.export_suggestions(rows, fmt), fmt, "匹配建议")
