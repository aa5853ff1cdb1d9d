"""Registration of technology contracts (技术合同认定登记): the form, the list and its export."""

from datetime import date

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from matchmaker.accounts.auth import roles_required
from matchmaker.challenges import (
    exports,
    figures,
    registration,
)
from matchmaker.challenges.views import bp
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.extensions import db
from matchmaker.pairs.models import Contract


@bp.route("/contracts/<int:contract_id>/registration", methods=["GET", "POST"])
@roles_required("staff", "broker")
def register_contract(contract_id: int):
    contract = db.get_or_404(Contract, contract_id)
    errors, form = {}, request.form
    if request.method == "POST":
        try:
            registration.register(contract.id, current_user.id, form.to_dict())
        except ServiceError as e:
            db.session.rollback()
            if e.status in (403, 404):
                abort(e.status, e.message)
            errors = e.errors or {"registration_no": e.message}
        else:
            flash("技术合同登记已保存", "success")
            return redirect(url_for("workbench.pair", pair_id=contract.suggestion_id))
    else:
        try:
            registration._contract_for(contract.id, current_user.id)
        except ServiceError as e:
            abort(e.status, e.message)
    existing = registration.for_contract(contract.id)
    values = form if errors else _registration_values(existing, contract)
    return render_template(
        "challenges/registration.html",
        contract=contract,
        existing=existing,
        values=values,
        errors=errors,
        transfer=contract.contract_type in registration.TRANSFER_TYPES,
    ), (400 if errors else 200)


def _registration_values(existing, contract) -> dict:
    if existing is None:
        return registration.defaults(contract)
    values = {
        key: getattr(existing, key)
        for key in (
            "registration_no", "seller_name", "seller_credit_code", "seller_region", "buyer_name",
            "buyer_credit_code", "buyer_region", "term_start", "term_end", "total_amount",
            "expected_investment", "expected_output", "registered_on",
        )
    }  # fmt: skip
    values["non_technical"] = "\n".join(
        f"{i['item']} {i['amount']}" for i in existing.non_technical
    )
    return {k: ("" if v is None else str(v)) for k, v in values.items()}


def _period():
    errors = {}
    from matchmaker.challenges import inputs

    start = inputs.day(request.args.get("from"), "from", errors, required=False)
    end = inputs.day(request.args.get("to"), "to", errors, required=False)
    return start, end, errors


@bp.get("/registrations")
@roles_required("staff")
def registrations():
    start, end, errors = _period()
    rows = [] if errors else registration.in_period(start, end)
    return render_template(
        "challenges/registrations.html",
        rows=rows,
        sheet=[registration.sheet_row(r) for r in rows],
        columns=registration.SHEET_COLUMNS,
        by_type=figures.registrations_by_type(start, end) if not errors else [],
        errors=errors,
        start=start,
        end=end,
    ), (400 if errors else 200)


@bp.get("/registrations.xlsx")
@roles_required("staff")
def export_registrations():
    start, end, errors = _period()
    if errors:
        abort(400, "；".join(errors.values()))
    name = f"contract-registrations-{start or 'all'}-{end or date.today()}.xlsx"
    return Response(
        exports.registrations_xlsx(registration.in_period(start, end)),
        mimetype=exports.XLSX,
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )
