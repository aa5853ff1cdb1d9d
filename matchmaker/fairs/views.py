"""Fairs on the web: create, register, preview, publish and close.

The agendas and the changes and outcomes of meetings are in agenda_views.py, on this blueprint.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select

from matchmaker.accounts.auth import roles_required
from matchmaker.accounts.models import Field
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.extensions import db
from matchmaker.core.once import once
from matchmaker.core.paging import positive_int
from matchmaker.fairs import meetings as fair_meetings
from matchmaker.fairs import organize as service
from matchmaker.fairs import plan as fair_plan
from matchmaker.fairs.models import FairParticipant, FairRegistration, MustMeet
from matchmaker.listings.models import Achievement, Need
from matchmaker.pairs.models import Suggestion

bp = Blueprint("fairs", __name__, url_prefix="/fairs", template_folder="templates")

FAIR_LABELS = {
    "draft": "草稿",
    "open": "报名中",
    "planned": "已排期",
    "published": "日程已发布",
    "closed": "已结束",
}
OUTCOME_LABELS = {
    "held": "已洽谈",
    "no_show": "未到场",
    "intention": "达成意向",
    "contract": "签约",
}
ORG_ROLES = ("institute", "enterprise")


def _int(name: str, default=None):
    value = (request.form.get(name) or request.args.get(name) or "").strip()
    if not value:
        return default
    digits = value.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 9:
        raise ServiceError("请输入整数（最多9位）", field=name)
    return int(value)


@bp.get("/")
@roles_required()
def index():
    return render_template("fairs/index.html", fairs=service.list_fairs(), labels=FAIR_LABELS)


@bp.route("/new", methods=["GET", "POST"])
@roles_required("staff")
@once
def new():
    errors = {}
    if request.method == "POST":
        form = request.form
        try:
            # The form's names are FairInput's fields; its defaults fill what a form leaves out.
            fair = service.open_fair(form, actor_id=current_user.id)
        except ServiceError as e:
            db.session.rollback()
            errors = e.errors or {"form": e.message}
        else:
            flash(f"已创建对接会，共 {fair.slots_count} 个洽谈时段", "success")
            return redirect(url_for("fairs.detail", fair_id=fair.id))
    return render_template("fairs/new.html", errors=errors, form=request.form), (
        400 if errors else 200
    )


def _my_listings(fair_id: int) -> list[dict]:
    """The signed-in organization's published listings and whether each is registered."""
    org_id = current_user.organization_id
    rows = []
    for kind, model in (("achievement", Achievement), ("need", Need)):
        column = getattr(FairRegistration, f"{kind}_id")
        regs = {
            getattr(r, f"{kind}_id"): r
            for r in db.session.scalars(
                select(FairRegistration).where(
                    FairRegistration.fair_id == fair_id, column.is_not(None)
                )
            )
        }
        for listing in db.session.scalars(
            select(model)
            .where(model.organization_id == org_id, model.status == "published")
            .order_by(model.id)
        ):
            rows.append({"kind": kind, "listing": listing, "registration": regs.get(listing.id)})
    return rows


def _my_pairs(fair_id: int) -> list[Suggestion]:
    """Pairs of the signed-in organization whose two listings are registered (for must-meet)."""
    org_id = current_user.organization_id
    needs = select(FairRegistration.need_id).where(FairRegistration.fair_id == fair_id)
    achs = select(FairRegistration.achievement_id).where(FairRegistration.fair_id == fair_id)
    return list(
        db.session.scalars(
            select(Suggestion)
            .join(Need, Need.id == Suggestion.need_id)
            .join(Achievement, Achievement.id == Suggestion.achievement_id)
            .where(
                Suggestion.need_id.in_(needs),
                Suggestion.achievement_id.in_(achs),
                Suggestion.state.not_in(fair_plan.CLOSED_PAIR_STATES),
                or_(Need.organization_id == org_id, Achievement.organization_id == org_id),
            )
            .order_by(Suggestion.score.desc())
            .limit(50)
        )
    )


def _detail(fair_id: int, errors: dict | None = None, status: int = 200):
    fair = service.get_fair(fair_id)
    context = {
        "fair": fair,
        "labels": FAIR_LABELS,
        "errors": errors or {},
        "slots": service.slot_times(fair),
        "open": service.registration_open(fair),
        "closes_local": service.to_local(fair.registration_closes_at),
        "org_quota_default": fair_plan.default_org_quota(fair),
    }
    regs = db.session.scalars(select(FairRegistration).where(FairRegistration.fair_id == fair.id))
    regs = list(regs)
    context["need_count"] = sum(1 for r in regs if r.need_id)
    context["achievement_count"] = sum(1 for r in regs if r.achievement_id)
    if current_user.role in ORG_ROLES and current_user.organization_id:
        context["mine"] = _my_listings(fair.id)
        context["pairs"] = _my_pairs(fair.id)
        context["asked"] = set(
            db.session.scalars(select(MustMeet.suggestion_id).where(MustMeet.fair_id == fair.id))
        )
        context["participant"] = db.session.scalar(
            select(FairParticipant).where(
                FairParticipant.fair_id == fair.id,
                FairParticipant.organization_id == current_user.organization_id,
            )
        )
    if current_user.role == "staff":
        context["fields"] = db.session.scalars(
            select(Field).where(Field.parent_id.is_(None)).order_by(Field.position)
        ).all()
        context["registrations"] = regs[:200]
        context["org_names"] = fair_plan.organization_names(fair.id)
    return render_template("fairs/detail.html", **context), status


@bp.get("/<int:fair_id>")
@roles_required()
def detail(fair_id: int):
    return _detail(fair_id)


def _act(fair_id: int, action, success: str):
    """Run one service call for a fair page form; errors go back next to the fields."""
    try:
        action()
    except ServiceError as e:
        db.session.rollback()
        return _detail(fair_id, e.errors or {"form": e.message}, e.status)
    flash(success, "success")
    return redirect(url_for("fairs.detail", fair_id=fair_id))


@bp.post("/<int:fair_id>/register")
@roles_required("institute", "enterprise", "staff")
@once
def register(fair_id: int):
    def action():
        kind, _, listing_id = request.form.get("listing", "").partition(":")
        if positive_int(listing_id) is None:
            raise ServiceError("请选择要报名的成果或需求", field="listing")
        service.register_listing(
            fair_id, kind, positive_int(listing_id), current_user.id, quota=_int("quota")
        )

    return _act(fair_id, action, "报名成功")


@bp.post("/<int:fair_id>/registrations/<int:registration_id>/delete")
@roles_required("institute", "enterprise", "staff")
def unregister(fair_id: int, registration_id: int):
    return _act(
        fair_id,
        lambda: service.unregister_listing(fair_id, registration_id, current_user.id),
        "已撤回报名",
    )


@bp.post("/<int:fair_id>/register-all")
@roles_required("staff")
def register_all(fair_id: int):
    def action():
        field_id = _int("field_id")
        added = service.register_all(fair_id, current_user.id, [field_id] if field_id else None)
        flash(f"新报名 {added} 项", "info")

    return _act(fair_id, action, "批量报名完成")


@bp.post("/<int:fair_id>/participant")
@roles_required("institute", "enterprise", "staff")
def participant(fair_id: int):
    def action():
        org_id = None
        if current_user.role == "staff":
            name = request.form.get("organization_name", "").strip()
            org_id = fair_plan.organization_by_name(name) if name else _int("organization_id")
        org_id = org_id or current_user.organization_id
        if org_id is None:
            raise ServiceError("请选择单位", field="organization_name")
        slots = None  # the quota form leaves the slots as they are
        if "slots_form" in request.form:
            raw = request.form.getlist("unavailable")
            slots = [int(s) for s in raw if s.isascii() and s.isdigit() and len(s) < 4]
        service.set_participant(
            fair_id, org_id, current_user.id, quota=_int("org_quota"), unavailable_slots=slots
        )

    return _act(fair_id, action, "参会信息已保存")


@bp.post("/<int:fair_id>/must-meet")
@roles_required("institute", "enterprise", "staff")
def must_meet(fair_id: int):
    def action():
        pair_id = _int("suggestion_id")
        if pair_id is None:
            raise ServiceError("请选择配对", field="suggestion_id")
        service.request_must_meet(fair_id, pair_id, current_user.id)

    return _act(fair_id, action, "已提交必谈请求")


@bp.post("/<int:fair_id>/min-score")
@roles_required("staff")
def set_min_score(fair_id: int):
    value = request.form.get("min_score", "")
    return _act(
        fair_id,
        lambda: fair_plan.set_min_score(fair_id, value, current_user.id),
        "最低匹配分已保存" if value.strip() else "最低匹配分改为自动",
    )


@bp.get("/<int:fair_id>/preview")
@roles_required("staff")
def preview(fair_id: int):
    fair = service.get_fair(fair_id)
    plan = fair_plan.compute_plan(fair.id)
    slots = service.slot_times(fair)
    pairs = {
        p.id: p
        for p in db.session.scalars(
            select(Suggestion).where(Suggestion.id.in_([k for k, _, _ in plan["placement"][:300]]))
        )
    }
    sample = [(slots[s], t + 1, pairs[k]) for k, s, t in plan["placement"][:300] if k in pairs]
    sample.sort(key=lambda row: (row[0].number, row[1]))
    return render_template("fairs/preview.html", fair=fair, plan=plan, sample=sample)


@bp.post("/<int:fair_id>/publish")
@roles_required("staff")
def publish(fair_id: int):
    try:
        summary = fair_plan.publish(fair_id, current_user.id)
    except ServiceError as e:
        db.session.rollback()
        return _detail(fair_id, e.errors or {"form": e.message}, e.status)
    flash(
        f"日程已发布：{summary['meetings']} 场洽谈，使用 {summary['slots_used']} 个时段", "success"
    )
    return redirect(url_for("fairs.agenda", fair_id=fair_id))


@bp.post("/<int:fair_id>/close")
@roles_required("staff")
def close(fair_id: int):
    return _act(fair_id, lambda: fair_meetings.close_fair(fair_id, current_user.id), "对接会已结束")
