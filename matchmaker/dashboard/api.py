"""The dashboard over JSON: totals for the platform or one fair."""

from matchmaker.accounts.auth import roles_required
from matchmaker.core.api import bp
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.openapi import document
from matchmaker.core.paging import positive_int
from matchmaker.dashboard import figures
from matchmaker.fairs.organize import get_fair


@bp.get("/dashboard")
@roles_required("staff", "broker")
def dashboard_totals():
    from flask import request

    fair = request.args.get("fair", "")
    if fair and positive_int(fair) is None:
        raise ServiceError("对接会编号应为正整数", field="fair")
    fair_id = get_fair(positive_int(fair)).id if fair else None
    data = figures.report(fair_id)
    totals = dict(data["totals"], contract_value=float(data["totals"]["contract_value"]))
    return {
        "fair_id": fair_id,
        "totals": totals,
        "by_field": data["by_field"],
        "by_kind": data["by_kind"],
        "by_month": data["by_month"],
    }


document(
    "/api/v1/dashboard",
    "get",
    {
        "summary": "Dashboard figures for the platform or one fair (?fair=ID); staff and brokers",
        "responses": {"200": {"description": "totals, by field, by kind, by month"}},
    },
)
