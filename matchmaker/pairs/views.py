"""The broker workbench: review queue, pair page and its actions, the parties' recommendations,
notifications, the outbox and the funnel figures."""

import re

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from matchmaker.accounts.auth import roles_required
from matchmaker.core import form_tokens, paging
from matchmaker.core.display import money
from matchmaker.core.exceptions import Forbidden, ServiceError
from matchmaker.core.extensions import db
from matchmaker.core.once import once
from matchmaker.core.safe_redirect import redirect_back
from matchmaker.listings.taxonomy import all_fields
from matchmaker.notifications import views as notification_views
from matchmaker.pairs import (
    access as pair_access,
)
from matchmaker.pairs import (
    actions as pair_actions,
)
from matchmaker.pairs import (
    data as pair_data,
)
from matchmaker.pairs import (
    meetings as pair_meetings,
)
from matchmaker.pairs import notices
from matchmaker.pairs import (
    queue as pair_queue,
)
from matchmaker.pairs import transitions as service
from matchmaker.pairs.models import CONTRACT_TYPES
from matchmaker.pairs.states import PairState

bp = Blueprint("workbench", __name__, template_folder="templates")


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
# One money format everywhere: 150.00万元 (亿元 from 1 亿 up), as the dashboard reports it.
bp.add_app_template_filter(money, "money")


@bp.app_template_global()
def can_view_pair(pair) -> bool:
    """Whether the signed-in user may open this pair (links to a pair show only then)."""
    return current_user.is_authenticated and pair_access.can_view(current_user, pair)


@bp.app_template_global()
def new_form_token() -> str:
    """A fresh one-time token for the form being rendered (see views/once.py)."""
    return form_tokens.new_token()


# The notification pages live with notifications and keep their workbench endpoints; the funnel
# pages are in figure_views.py, on this blueprint too.
bp.add_app_template_global(notification_views.unread_notifications, "unread_notifications")
for _rule, _view, _methods in notification_views.ROUTES:
    bp.add_url_rule(_rule, view_func=_view, methods=_methods)


def _page() -> int:
    return paging.page_number(request.args)


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
        "pairs/queue.html",
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
    return redirect_back("back", fallback=url_for("workbench.queue"))


@bp.route("/workbench/propose", methods=["GET", "POST"])
@roles_required("broker", "staff")
@once
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
    # A listing page may link here with ?need_id= or ?achievement_id= filled in; listings are
    # picked from a search (?need_q= / ?achievement_q=), never by typing an id.
    form = request.form if request.method == "POST" else request.args
    choices = {
        kind: pair_queue.listing_choices(
            kind, current_user, form.get(f"{kind}_q", ""), form.get(f"{kind}_id", "")
        )
        for kind in ("need", "achievement")
    }
    return render_template("pairs/propose.html", errors=errors, form=form, choices=choices), (
        400 if errors else 200
    )


# --- one pair --------------------------------------------------------------------------------


def _render_pair(pair_id: int, errors: dict | None = None, form=None, status: int = 200, pair=None):
    pair = pair or service.get_pair(pair_id, current_user.id)
    terms = [t for t, _ in (pair.terms or [])]
    is_broker = current_user.role in pair_access.BROKER_ROLES
    return render_template(
        "pairs/pair.html",
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
        meeting=pair_meetings.current(pair.id),
        final_states=service.FINAL_STATES,
        errors=errors or {},
        form=form or {},
    ), status


@bp.get("/pairs/<int:pair_id>")
@roles_required()
def pair(pair_id: int):
    found = service.get_pair(pair_id, current_user.id)  # 404/403 before anything is marked
    notification_views.read_link(notices.pair_link(pair_id))
    # Passed on: the session holds rows weakly, so a dropped pair would be loaded again.
    return _render_pair(pair_id, pair=found)


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
    flash(success() if callable(success) else success, "success")
    return redirect(url_for("workbench.pair", pair_id=pair_id))


@bp.post("/pairs/<int:pair_id>/move")
@roles_required()
@once
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
            if to == PairState.CONTRACT
            else None,
            meeting={
                "starts_at": form.get("starts_at", ""),
                "place": form.get("place", ""),
                "online_url": form.get("online_url", ""),
            }
            if to == PairState.MEETING_SCHEDULED
            else None,
            expected_version=paging.positive_int(version),
        )

    return _act(pair_id, action, lambda: service.outcome_message(pair_id))


@bp.post("/pairs/<int:pair_id>/meeting/reschedule")
@roles_required("broker", "staff")
def meeting_reschedule(pair_id: int):
    form = request.form
    data = {k: form.get(k, "") for k in ("starts_at", "place", "online_url")}

    def action():
        pair_meetings.reschedule(pair_id, current_user.id, data, form.get("change_reason", ""))

    return _act(pair_id, action, "约见已改期，已通知双方")


@bp.post("/pairs/<int:pair_id>/meeting/cancel")
@roles_required("broker", "staff")
def meeting_cancel(pair_id: int):
    reason = request.form.get("change_reason", "")
    return _act(
        pair_id,
        lambda: pair_meetings.cancel(pair_id, current_user.id, reason),
        "约见已取消，已通知双方；配对回到「双方有意向」，可重新安排约见",
    )


@bp.get("/pairs/<int:pair_id>/meeting.ics")
@roles_required()
def meeting_ics(pair_id: int):
    pair = service.get_pair(pair_id, current_user.id)
    body = pair_meetings.ics(pair, host=request.host.split(":")[0] or "matchmaker")
    return Response(
        body,
        mimetype="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename=meeting-{pair_id}.ics"},
    )


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
        "pairs/mine.html",
        result=result,
        sides_of=pair_access.sides_of,
        revealed=pair_access.contacts_revealed,
        decline_reasons=service.DECLINE_REASONS,
    )
