"""A fair's agenda (page, spreadsheet, print) and the changes and outcomes of its meetings."""

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from matchmaker.accounts.auth import roles_required
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.exports import XLSX
from matchmaker.core.extensions import db
from matchmaker.fairs import agenda
from matchmaker.fairs import meetings as fair_meetings
from matchmaker.fairs import organize as service
from matchmaker.fairs.views import FAIR_LABELS, OUTCOME_LABELS, _int, bp
from matchmaker.pairs.models import CONTRACT_TYPES, Meeting


def _scope_org():
    return (
        None if current_user.role in ("staff", "broker") else (current_user.organization_id or -1)
    )


def _agenda(fair_id: int, errors: dict | None = None, failed: int | None = None, status: int = 200):
    fair = service.get_fair(fair_id)
    rows = agenda.agenda_rows(
        fair.id, _scope_org(), include_cancelled=current_user.role in ("staff", "broker")
    )
    return render_template(
        "fairs/agenda.html",
        fair=fair,
        rows=rows,
        errors=errors or {},
        failed=failed,
        slots=service.slot_times(fair),
        outcomes=OUTCOME_LABELS,
        contract_types=CONTRACT_TYPES,
        manage=current_user.role in ("staff", "broker"),
        labels=FAIR_LABELS,
    ), status


@bp.get("/<int:fair_id>/agenda", endpoint="agenda")
@roles_required()
def agenda_page(fair_id: int):
    return _agenda(fair_id)


@bp.get("/<int:fair_id>/agenda.xlsx")
@roles_required()
def agenda_xlsx(fair_id: int):
    fair = service.get_fair(fair_id)
    data = agenda.agenda_xlsx(fair.id, _scope_org())
    return Response(
        data,
        content_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename=fair-{fair.id}-agenda.xlsx"},
    )


@bp.get("/<int:fair_id>/agenda/print")
@roles_required()
def agenda_print(fair_id: int):
    fair = service.get_fair(fair_id)
    return render_template(
        "fairs/agenda_print.html", fair=fair, rows=agenda.agenda_rows(fair.id, _scope_org())
    )


def _meeting_action(meeting_id: int, action, success: str):
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise ServiceError("洽谈不存在")
    fair_id = meeting.fair_id
    try:
        action()
    except ServiceError as e:
        db.session.rollback()
        return _agenda(fair_id, e.errors or {"form": e.message}, meeting_id, e.status)
    flash(success, "success")
    return redirect(url_for("fairs.agenda", fair_id=fair_id) + f"#m{meeting_id}")


@bp.post("/meetings/<int:meeting_id>/move")
@roles_required("staff")
def move(meeting_id: int):
    def action():
        slot, table = _int("slot"), _int("table")
        if slot is None:
            raise ServiceError("请选择时段", field="slot")
        if table is None:
            raise ServiceError("请填写桌号", field="table")
        fair_meetings.move_meeting(meeting_id, slot - 1, table - 1, current_user.id)

    return _meeting_action(meeting_id, action, "洽谈已调整")


@bp.post("/meetings/<int:meeting_id>/cancel")
@roles_required("staff")
def cancel(meeting_id: int):
    return _meeting_action(
        meeting_id,
        lambda: fair_meetings.cancel_meeting(
            meeting_id, current_user.id, request.form.get("note", "")
        ),
        "洽谈已取消",
    )


@bp.post("/meetings/<int:meeting_id>/confirm")
@roles_required()
def confirm(meeting_id: int):
    return _meeting_action(
        meeting_id, lambda: fair_meetings.confirm_meeting(meeting_id, current_user.id), "洽谈已确认"
    )


@bp.post("/meetings/<int:meeting_id>/outcome")
@roles_required("staff", "broker")
def outcome(meeting_id: int):
    form = request.form
    return _meeting_action(
        meeting_id,
        lambda: fair_meetings.record_outcome(
            meeting_id,
            current_user.id,
            form.get("outcome", ""),
            form.get("note", ""),
            contract={k: form.get(k, "") for k in ("contract_type", "amount", "signed_on")},
        ),
        "洽谈结果已记录",
    )
