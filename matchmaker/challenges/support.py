"""The support granted to a chosen application, in stages that staff record and release."""

from datetime import date

from matchmaker.challenges import inputs
from matchmaker.challenges.applications import team_users
from matchmaker.challenges.models import (
    ChallengeApplication,
    SupportStage,
)
from matchmaker.challenges.reviews import application_in
from matchmaker.core.exceptions import Conflict, NotFound, ServiceError
from matchmaker.core.extensions import db
from matchmaker.notifications import notify as notifications


def add_stage(application_id: int, actor_id: int, raw: dict) -> SupportStage:
    """Record a stage of the support granted to the chosen application."""
    actor = inputs.staff(actor_id)
    application = application_in(application_id, "chosen", "只能为已入选的揭榜申请登记支持资金")
    errors: dict = {}
    name = inputs.text(raw.get("name"), "name", errors, 60, required=True)
    amount = inputs.amount(raw.get("amount"), "amount", errors, positive=True)
    released = inputs.day(raw.get("released_on"), "released_on", errors, required=False)
    if released and released > date.today():
        errors["released_on"] = "拨付日期不能晚于今天"
    if errors:
        raise ServiceError("请检查支持资金", errors=errors)
    stage = SupportStage(
        application_id=application.id,
        name=name,
        amount=amount,
        released_on=released,
        recorded_by_id=actor.id,
    )
    db.session.add(stage)
    notifications.notify(
        team_users(application),
        "challenge",
        f"揭榜项目「{application.entry.need.title}」登记支持资金：{name} {amount} 万元",
        f"/challenges/applications/{application.id}",
    )
    db.session.commit()
    return stage


def release_stage(stage_id: int, actor_id: int, released_on=None) -> SupportStage:
    inputs.staff(actor_id)
    stage = db.session.get(SupportStage, stage_id)
    if stage is None:
        raise NotFound("资金阶段不存在")
    if stage.released_on is not None:
        raise Conflict("该阶段资金已拨付")
    errors: dict = {}
    day = inputs.day(released_on or date.today().isoformat(), "released_on", errors)
    if errors or day > date.today():
        raise ServiceError("拨付日期有误", errors=errors or {"released_on": "拨付日期不能晚于今天"})
    stage.released_on = day
    db.session.commit()
    return stage


def support_totals(application: ChallengeApplication) -> dict:
    granted = sum((s.amount for s in application.stages), start=0)
    released = sum((s.amount for s in application.stages if s.released_on), start=0)
    return {"granted": granted, "released": released}
