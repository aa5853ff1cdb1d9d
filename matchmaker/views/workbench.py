"""The broker workbench: review queue, pair page and its actions, the parties' recommendations,
notifications, the outbox and the funnel figures."""

import re

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from matchmaker.auth import roles_required
from matchmaker.extensions import db
from matchmaker.models.fairs import CONTRACT_TYPES
from matchmaker.services import (
    Forbidden,
    ServiceError,
    broker_figures,
    notifications,
    pair_access,
    pair_actions,
    pair_data,
    pair_queue,
)
from matchmaker.services import pairs as service
from matchmaker.services.taxonomy import all_fields

bp = Blueprint("workbench", __name__)


def highlight(text: str, terms) -> Markup:
    """Escape the text, then wrap every matched term in <mark>."""
    escaped = str(escape(text or ""))
    words = sorted({str(escape(t)) for t in terms if t}, key=len, reverse=True)
    if not words:
        return Markup(escaped)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    return Markup(pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", escaped))


@bp.app_context_processor
def _labels():
    return {
        "state_label": service.state_label,
        "reason_label": service.reason_label,
        "SIDE_LABELS": service.SIDE_LABELS,
    }


bp.add_app_template_filter(service.state_label, "state_label")


@bp.app_template_global()
def unread_notifications() -> int:
    if not current_user.is_authenticated:
        return 0
    return notifications.unread_count(current_user.id)


def _page() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 1


# --- the review queue ------------------------------------------------------------------------


@bp.get("/workbench")
@roles_required("broker", "staff")
def queue():
    errors = {}
    try:
        filters = pair_queue.QueueFilters.parse(request.args, current_user.previous_seen_at)
    except ServiceError as e:
        errors = e.errors
        filters = pair_queue.QueueFilters()
    result = pair_queue.queue(current_user, filters, page=_page())
    return render_template(
        "workbench/queue.html",
        result=result,
        filters=filters,
        args=request.args,
        errors=errors,
        fields=all_fields(),
        dismiss_reasons=service.DISMISS_REASONS,
    ), (400 if errors else 200)


@bp.post("/workbench/bulk")
@roles_required("broker", "staff")
def bulk():
    try:
        result = pair_actions.bulk(
            request.form.getlist("ids"),
            current_user.id,
            request.form.get("action", ""),
            reason=request.form.get("reason", ""),
            note=request.form.get("note", ""),
            days=request.form.get("days") or 7,
        )
    except ServiceError as e:
        db.session.rollback()
        flash("批量操作失败：" + "；".join(e.errors.values() or [e.message]), "danger")
    else:
        flash(f"已处理{len(result['done'])}个配对", "success")
        for pair_id, message in result["failed"].items():
            flash(f"配对{pair_id}：{message}", "warning")
    return redirect(request.form.get("back") or url_for("workbench.queue"))


@bp.route("/workbench/propose", methods=["GET", "POST"])
@roles_required("broker", "staff")
def propose():
    errors = {}
    if request.method == "POST":
        try:
            pair = pair_actions.propose(
                current_user.id,
                request.form.get("need_id", ""),
                request.form.get("achievement_id", ""),
                request.form.get("note", ""),
            )
        except ServiceError as e:
            db.session.rollback()
            errors = e.errors or {"form": e.message}
        else:
            flash("已提出新配对", "success")
            return redirect(url_for("workbench.pair", pair_id=pair.id))
    # A listing page may link here with ?need_id= or ?achievement_id= filled in.
    form = request.form if request.method == "POST" else request.args
    return render_template("workbench/propose.html", errors=errors, form=form), (
        400 if errors else 200
    )


# --- one pair --------------------------------------------------------------------------------


def _render_pair(pair_id: int, errors: dict | None = None, form=None, status: int = 200):
    pair = service.get_pair(pair_id, current_user.id)
    terms = [t for t, _ in (pair.terms or [])]
    is_broker = current_user.role in pair_access.BROKER_ROLES
    return render_template(
        "workbench/pair.html",
        pair=pair,
        data=pair_data.pair_dict(pair, current_user),
        need_html=highlight(pair.need.description or pair.need.title, terms),
        achievement_html=highlight(pair.achievement.description or pair.achievement.title, terms),
        need_title=highlight(pair.need.title, terms),
        achievement_title=highlight(pair.achievement.title, terms),
        fit=pair_data.fit_summary(pair),
        candidates=pair_queue.candidates_for_need(pair.need_id, pair.id) if is_broker else [],
        is_broker=is_broker,
        my_sides=pair_access.sides_of(current_user, pair),
        revealed=pair_access.contacts_revealed(current_user, pair),
        moves=service.TRANSITIONS[pair.state] if is_broker else (),
        brokers=pair_queue.brokers() if current_user.role == "staff" else [],
        dismiss_reasons=service.DISMISS_REASONS,
        decline_reasons=service.DECLINE_REASONS,
        close_reasons=service.CLOSE_REASONS,
        contract_types=CONTRACT_TYPES,
        errors=errors or {},
        form=form or {},
    ), status


@bp.get("/pairs/<int:pair_id>")
@roles_required()
def pair(pair_id: int):
    return _render_pair(pair_id)


def _act(pair_id: int, action, success: str):
    try:
        action()
    except Forbidden:
        db.session.rollback()
        raise
    except ServiceError as e:
        db.session.rollback()
        errors = dict(e.errors)
        if e.status != 400 or not errors:
            errors["form"] = e.message
        return _render_pair(pair_id, errors, request.form, e.status)
    flash(success, "success")
    return redirect(url_for("workbench.pair", pair_id=pair_id))


@bp.post("/pairs/<int:pair_id>/move")
@roles_required()
def move(pair_id: int):
    form = request.form
    to = form.get("to", "")
    version = form.get("version", "")

    def action():
        service.transition(
            pair_id,
            current_user.id,
            to,
            note=form.get("note", ""),
            reason=form.get("reason", ""),
            side=form.get("side") or None,
            contract={
                "type": form.get("contract_type", ""),
                "amount": form.get("amount", ""),
                "signed_on": form.get("signed_on", ""),
            }
            if to == "contract"
            else None,
            meeting={"starts_at": form.get("starts_at", ""), "place": form.get("place", "")},
            expected_version=int(version) if version.isdigit() else None,
        )

    return _act(pair_id, action, f"已更新：{service.state_label(to)}")


@bp.post("/pairs/<int:pair_id>/claim")
@roles_required("broker", "staff")
def claim(pair_id: int):
    return _act(pair_id, lambda: pair_actions.claim(pair_id, current_user.id), "已认领")


@bp.post("/pairs/<int:pair_id>/unclaim")
@roles_required("broker", "staff")
def unclaim(pair_id: int):
    return _act(pair_id, lambda: pair_actions.unclaim(pair_id, current_user.id), "已释放认领")


@bp.post("/pairs/<int:pair_id>/snooze")
@roles_required("broker", "staff")
def snooze(pair_id: int):
    days, note = request.form.get("days", ""), request.form.get("note", "")
    return _act(
        pair_id, lambda: pair_actions.snooze(pair_id, current_user.id, days, note), "已推迟"
    )


@bp.post("/pairs/<int:pair_id>/note")
@roles_required("broker", "staff")
def note(pair_id: int):
    text = request.form.get("note", "")
    return _act(
        pair_id, lambda: pair_actions.add_note(pair_id, current_user.id, text), "已添加备注"
    )


@bp.post("/pairs/<int:pair_id>/reassign")
@roles_required("staff")
def reassign(pair_id: int):
    broker_id = request.form.get("broker_id", "")
    return _act(
        pair_id, lambda: pair_actions.reassign(pair_id, current_user.id, broker_id), "已重新分配"
    )


# --- the parties -----------------------------------------------------------------------------


@bp.get("/my/pairs")
@roles_required("institute", "enterprise")
def mine():
    result = pair_queue.visible(current_user, page=_page())
    return render_template(
        "workbench/mine.html",
        result=result,
        sides_of=pair_access.sides_of,
        revealed=pair_access.contacts_revealed,
        decline_reasons=service.DECLINE_REASONS,
    )


# --- notifications and mail ------------------------------------------------------------------


@bp.get("/notifications")
@roles_required()
def notification_list():
    result = notifications.for_user(current_user.id, page=_page())
    return render_template("workbench/notifications.html", result=result)


@bp.post("/notifications/read")
@roles_required()
def notifications_read():
    raw = request.form.get("id", "")
    notifications.mark_read(current_user.id, int(raw) if raw.isdigit() else None)
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("workbench.notification_list"))


@bp.get("/outbox")
@roles_required("staff")
def outbox():
    status = request.args.get("status") or None
    result = notifications.outbox(page=_page(), status=status)
    return render_template("workbench/outbox.html", result=result, status=status)


# --- figures ---------------------------------------------------------------------------------


@bp.get("/workbench/figures")
@roles_required("broker", "staff")
def figures():
    by = request.args.get("by", "broker")
    rows = broker_figures.figures(by, current_user)
    return render_template(
        "workbench/figures.html",
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
    if fmt == "csv":
        body, mimetype = broker_figures.to_csv(by, current_user), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body = broker_figures.to_xlsx(by, current_user)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        raise ServiceError("导出格式须为 csv 或 xlsx", field="format")
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f"attachment; filename=pair-figures-{by}.{fmt}"},
    )
