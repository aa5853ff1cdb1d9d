"""Fairs over JSON: plan figures (dry run), agendas."""

from flask_login import current_user

from matchmaker.accounts.auth import roles_required
from matchmaker.core.api import bp
from matchmaker.core.openapi import document
from matchmaker.fairs import agenda
from matchmaker.fairs import plan as fair_plan
from matchmaker.fairs.organize import get_fair


@bp.get("/fairs/<int:fair_id>/plan")
@roles_required("staff")
def fair_plan_preview(fair_id: int):
    plan = fair_plan.compute_plan(fair_id)
    plan["placement"] = [
        {"pair_id": k, "slot": s + 1, "table": t + 1} for k, s, t in plan["placement"]
    ]
    return plan


@bp.get("/fairs/<int:fair_id>/agenda")
@roles_required()
def fair_agenda(fair_id: int):
    fair = get_fair(fair_id)
    org = None if current_user.role in ("staff", "broker") else (current_user.organization_id or -1)
    return {
        "fair": {
            "id": fair.id,
            "name": fair.name,
            "held_on": fair.held_on.isoformat(),
            "status": fair.status,
        },
        "meetings": agenda.agenda_rows(fair.id, org),
    }


document(
    "/api/v1/fairs/{fair_id}/plan",
    "get",
    {
        "summary": "Dry-run a fair's plan: figures and placement (staff)",
        "responses": {
            "200": {"description": "figures and placement"},
            "404": {"description": "no such fair"},
        },
    },
)
document(
    "/api/v1/fairs/{fair_id}/agenda",
    "get",
    {
        "summary": "A fair's meetings; organizations see their own",
        "responses": {"200": {"description": "the agenda"}, "404": {"description": "no such fair"}},
    },
)
