"""The broker funnel pages on the workbench blueprint: figures per broker or field, and export."""

from flask import Response, render_template, request
from flask_login import current_user

from matchmaker.accounts.auth import roles_required
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.exports import MIMETYPES
from matchmaker.pairs import figures as broker_figures
from matchmaker.pairs.views import bp


@bp.get("/workbench/figures")
@roles_required("broker", "staff")
def figures():
    by = request.args.get("by", "broker")
    rows = broker_figures.figures(by, current_user)
    return render_template(
        "pairs/figures.html",
        rows=rows,
        by=by,
        groupings=broker_figures.GROUPINGS,
        counts=broker_figures.COUNTS,
        gaps=[f"{a}→{b}" for a, b in broker_figures.GAPS],
    )


@bp.get("/workbench/figures.<fmt>")
@roles_required("broker", "staff")
def figures_export(fmt: str):
    by = request.args.get("by", "broker")
    if fmt not in MIMETYPES:
        raise ServiceError("导出格式须为 csv 或 xlsx", field="format")
    return Response(
        broker_figures.export(by, fmt, current_user),
        content_type=MIMETYPES[fmt],
        headers={"Content-Disposition": f"attachment; filename=pair-figures-{by}.{fmt}"},
    )
