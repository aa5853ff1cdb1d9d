"""The bureau's dashboard: live figures for the platform or one fair, charts and an .xlsx export.

Open to staff and brokers: brokers follow the same funnel they work; organizations see their own
pages instead.
"""

from flask import Blueprint, Response, render_template, request

from matchmaker.accounts.auth import roles_required
from matchmaker.challenges import figures as challenge_figures
from matchmaker.core import charts
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.exports import XLSX
from matchmaker.core.paging import positive_int
from matchmaker.dashboard import figures as service
from matchmaker.dashboard.export import TOTAL_LABELS, dashboard_xlsx
from matchmaker.fairs.organize import get_fair, list_fairs

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates")


def _fair_id() -> int | None:
    value = request.args.get("fair", "")
    if not value:
        return None
    fair_id = positive_int(value)
    if fair_id is None:
        raise ServiceError("对接会编号应为正整数", field="fair")
    return get_fair(fair_id).id  # 404 page for an unknown fair


@bp.get("/")
@roles_required("staff", "broker")
def index():
    data = service.report(_fair_id())
    pictures = {
        "funnel": charts.funnel(data["funnel"]),
        "fields": charts.bars(
            data["by_field"],
            "field",
            [("achievements", "成果"), ("needs", "需求"), ("bottleneck_needs", "卡脖子")],
            "按技术领域",
        ),
        "trend": charts.trend(
            data["by_month"],
            [
                ("achievements", "新增成果"),
                ("needs", "新增需求"),
                ("met", "洽谈"),
                ("contracts", "签约"),
            ],
            "按月趋势",
        ),
    }
    return render_template(
        "dashboard/index.html",
        data=data,
        charts=pictures,
        labels=TOTAL_LABELS,
        fairs=list_fairs(),
        challenge_figures=challenge_figures.all_figures(),
    )


@bp.get("/export.xlsx")
@roles_required("staff", "broker")
def export():
    fair_id = _fair_id()
    name = f"dashboard-fair-{fair_id}.xlsx" if fair_id else "dashboard.xlsx"
    return Response(
        dashboard_xlsx(fair_id),
        content_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )
