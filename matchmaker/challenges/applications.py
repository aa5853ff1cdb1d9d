"""Taking a listed problem on (揭榜): applications, who may see them, expert reviews, the choice
that turns the chosen application into a pair on the workbench, and the support granted."""

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from matchmaker.accounts.models import Organization, User
from matchmaker.challenges import bottlenecks, inputs
from matchmaker.challenges.models import (
    REVIEW_CRITERIA,
    ApplicationAchievement,
    ApplicationAttachment,
    ApplicationPartner,
    BottleneckEntry,
    ChallengeApplication,
    ExpertReview,
    SupportStage,
)
from matchmaker.core.db import utcnow
from matchmaker.core.exceptions import Conflict, Forbidden, NotFound, ServiceError
from matchmaker.core.extensions import db
from matchmaker.listings.models import Achievement
from matchmaker.notifications import notify as notifications
from matchmaker.pairs.models import Suggestion
from matchmaker.pairs.states import PairState
from matchmaker.pairs.transitions import after_commit, record_event

APPLICANT_KINDS = ("university", "institute")
MAX_PARTNERS = 5
MAX_ACHIEVEMENTS = 5
MAX_MILESTONES = 12
MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
ATTACHMENT_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}


def _user(user_id: int | None) -> User | None:
    user = db.session.get(User, user_id) if user_id else None
    return user if user is not None and user.is_active else None


def _member_org(user: User | None) -> Organization | None:
    org = user.organization if user is not None else None
    return org if org is not None and org.status == "approved" else None


def team_org_ids(application: ChallengeApplication) -> set[int]:
    return {application.lead_org_id} | {p.organization_id for p in application.partners}


def can_view(user: User | None, application: ChallengeApplication) -> bool:
    """Staff, the problem's company, and the team's organizations; never another applicant."""
    if user is None:
        return False
    if user.role == "staff":
        return True
    org = _member_org(user)
    if org is None:
        return False
    return org.id == application.entry.need.organization_id or org.id in team_org_ids(application)


def can_apply(user: User | None, entry: BottleneckEntry) -> bool:
    org = _member_org(user)
    return (
        user is not None
        and user.role == "institute"
        and org is not None
        and org.kind in APPLICANT_KINDS
        and bottlenecks.is_public(entry)
    )


def get_visible(application_id: int, user_id: int | None) -> ChallengeApplication:
    application = db.session.get(ChallengeApplication, application_id)
    if application is None:
        raise NotFound("揭榜申请不存在")
    if not can_view(_user(user_id), application):
        raise Forbidden("无权查看该揭榜申请")
    return application


def visible_for_entry(entry: BottleneckEntry, user: User | None) -> list[ChallengeApplication]:
    return [a for a in entry.applications if can_view(user, a)]


def _milestones(raw, errors: dict) -> list[dict]:
    """Milestones as a list of {"title","due"} or lines 'YYYY-MM-DD 内容'."""
    if isinstance(raw, str):
        items = []
        for line in raw.splitlines():
            line = line.strip()
            if line:
                due, _, title = line.partition(" ")
                items.append({"due": due, "title": title.strip()})
    elif isinstance(raw, list):
        items = [i if isinstance(i, dict) else {} for i in raw]
    else:
        items = []
    if not items:
        errors["milestones"] = "请至少填写一个里程碑（每行：YYYY-MM-DD 内容）"
        return []
    if len(items) > MAX_MILESTONES:
        errors["milestones"] = f"里程碑不能超过{MAX_MILESTONES}个"
        return []
    out = []
    for n, item in enumerate(items, 1):
        due = inputs.day(item.get("due"), "milestones", {}, required=True)
        title = str(item.get("title") or "").strip()
        if due is None or not title or len(title) > 200:
            errors["milestones"] = f"第{n}个里程碑应为「YYYY-MM-DD 内容」，内容不超过200字"
            return []
        out.append({"due": due.isoformat(), "title": title})
    return out


def _attachments(files, errors: dict) -> list[ApplicationAttachment]:
    files = [f for f in files or [] if f and f[0]]
    if len(files) > MAX_ATTACHMENTS:
        errors["attachments"] = f"附件不能超过{MAX_ATTACHMENTS}个"
        return []
    out = []
    for filename, data in files:
        name = str(filename).replace("\\", "/").rsplit("/", 1)[-1].strip()[:200]
        suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
        if suffix not in ATTACHMENT_TYPES:
            errors["attachments"] = "附件只支持 " + "、".join(ATTACHMENT_TYPES)
            return []
        if not data or len(data) > MAX_ATTACHMENT_BYTES:
            errors["attachments"] = f"附件「{name}」为空或超过5 MB"
            return []
        out.append(
            ApplicationAttachment(
                filename=name, content_type=ATTACHMENT_TYPES[suffix], size=len(data), data=data
            )
        )
    return out


def apply(entry_id: int, user_id: int, raw: dict, files=None) -> ChallengeApplication:
    """An institute (leading a team of up to five partners) applies to solve a listed problem."""
    user = _user(user_id)
    entry = db.session.get(BottleneckEntry, entry_id)
    if entry is None:
        raise NotFound("该卡脖子问题不存在")
    if not can_apply(user, entry):
        raise Forbidden("只有已审核的高校和科研机构可以揭榜清单中已发布的问题")
    lead = user.organization
    errors: dict = {}
    approach = inputs.text(raw.get("approach"), "approach", errors, 5000, required=True, minimum=20)
    team = inputs.text(raw.get("team"), "team", errors, 2000, required=True)
    budget = inputs.amount(raw.get("budget_asked"), "budget_asked", errors)
    milestones = _milestones(raw.get("milestones"), errors)
    partner_ids = [i for i in inputs.ids(raw.get("partner_ids")) if i != lead.id]
    partners = [db.session.get(Organization, i) for i in partner_ids[: MAX_PARTNERS + 1]]
    if len(partner_ids) > MAX_PARTNERS:
        errors["partner_ids"] = f"联合单位不能超过{MAX_PARTNERS}家"
    elif any(p is None or p.status != "approved" for p in partners):
        errors["partner_ids"] = "联合单位须为平台上已审核的单位"
    team_ids = {lead.id, *partner_ids}
    achievement_ids = inputs.ids(raw.get("achievement_ids"))
    achievements = [db.session.get(Achievement, i) for i in achievement_ids[: MAX_ACHIEVEMENTS + 1]]
    if not achievement_ids:
        errors["achievement_ids"] = "请至少关联一项本团队已发布的科技成果"
    elif len(achievement_ids) > MAX_ACHIEVEMENTS:
        errors["achievement_ids"] = f"关联成果不能超过{MAX_ACHIEVEMENTS}项"
    elif any(
        a is None or a.status != "published" or a.organization_id not in team_ids
        for a in achievements
    ):
        errors["achievement_ids"] = "只能关联本团队单位已发布的科技成果"
    attachments = _attachments(files, errors)
    if errors:
        raise ServiceError("请检查揭榜申请", errors=errors)
    application = ChallengeApplication(
        entry=entry,
        lead_org_id=lead.id,
        created_by_id=user.id,
        approach=approach,
        team=team,
        milestones=milestones,
        budget_asked=budget,
        partners=[ApplicationPartner(organization_id=p.id) for p in partners],
        achievements=[
            ApplicationAchievement(achievement_id=a.id, position=n)
            for n, a in enumerate(achievements)
        ],
        attachments=attachments,
    )
    db.session.add(application)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("本单位已经揭榜过该问题") from None
    need = entry.need
    link = f"/challenges/applications/{application.id}"
    notifications.notify(
        notifications.org_members(need.organization_id),
        "challenge",
        f"{lead.name}揭榜了您的卡脖子问题「{need.title}」",
        link,
    )
    notifications.notify(
        _staff_users(), "challenge", f"新的揭榜申请：{lead.name} → {need.title}", link
    )
    db.session.commit()
    return application


def _staff_users():
    return db.session.scalars(select(User).where(User.role == "staff", User.is_active.is_(True)))


def _team_users(application: ChallengeApplication) -> list[User]:
    users = []
    for org_id in sorted(team_org_ids(application)):
        users.extend(notifications.org_members(org_id))
    return users


def _application(application_id: int, status: str, refusal: str) -> ChallengeApplication:
    """The application, which must be in `status` for the step at hand."""
    application = db.session.get(ChallengeApplication, application_id)
    if application is None:
        raise NotFound("揭榜申请不存在")
    if application.status != status:
        raise Conflict(refusal)
    return application


def add_review(application_id: int, actor_id: int, raw: dict) -> ExpertReview:
    """Record one expert's scores (0-10 per criterion) and comments."""
    actor = inputs.staff(actor_id)
    application = _application(application_id, "submitted", "该申请已有评审结果，不能再添加评分")
    errors: dict = {}
    expert = inputs.text(raw.get("expert_name"), "expert_name", errors, 60, required=True)
    comment = inputs.text(raw.get("comment"), "comment", errors, 2000)
    given = raw.get("scores") if isinstance(raw.get("scores"), dict) else {}
    scores = {}
    for n, criterion in enumerate(REVIEW_CRITERIA):
        value = given.get(criterion, raw.get(f"score_{n}"))
        try:
            number = float(str(value).strip())
        except (TypeError, ValueError):
            number = -1
        if not 0 <= number <= 10:
            errors[f"score_{n}"] = f"「{criterion}」的评分须为0到10之间的数字"
        else:
            scores[criterion] = round(number, 1)
    if errors:
        raise ServiceError("请检查专家评分", errors=errors)
    review = ExpertReview(
        application_id=application.id,
        expert_name=expert,
        scores=scores,
        total=round(sum(scores.values()), 1),
        comment=comment,
        recorded_by_id=actor.id,
    )
    db.session.add(review)
    db.session.commit()
    return review


def average_total(application: ChallengeApplication) -> float | None:
    if not application.reviews:
        return None
    return round(sum(r.total for r in application.reviews) / len(application.reviews), 1)


def choose(application_id: int, actor_id: int, note: str = "") -> ChallengeApplication:
    """Choose an application: it becomes a pair recommended to both sides; the others are told."""
    actor = inputs.staff(actor_id)
    application = db.session.scalar(
        select(ChallengeApplication)
        .where(ChallengeApplication.id == application_id)
        .with_for_update()
    )
    if application is None:
        raise NotFound("揭榜申请不存在")
    entry = application.entry
    if any(a.status == "chosen" for a in entry.applications):
        db.session.rollback()
        raise Conflict("该问题已经选定揭榜单位")
    if application.status != "submitted":
        db.session.rollback()
        raise Conflict("只能选定已提交的申请")
    if not application.reviews:
        db.session.rollback()
        raise ServiceError("请先录入至少一位专家的评审意见", field="reviews")
    need = entry.need
    achievement = application.achievements[0].achievement
    pair = db.session.scalar(
        select(Suggestion).where(
            Suggestion.need_id == need.id, Suggestion.achievement_id == achievement.id
        )
    )
    from_state = pair.state if pair is not None else None
    if pair is None:
        pair = Suggestion(
            need=need,
            achievement=achievement,
            source="broker",
            score=linked_scores(need, [achievement.id]).get(achievement.id) or 0.0,
            terms=[],
            same_field=bool({f.id for f in need.fields} & {f.id for f in achievement.fields}),
            state=PairState.SUGGESTED,
        )
        db.session.add(pair)
        record_event(
            pair, actor, "propose", PairState.SUGGESTED, note=f"揭榜挂帅：第{entry.number}号问题"
        )
    if pair.state not in (PairState.SUGGESTED, PairState.RECOMMENDED):
        db.session.rollback()
        raise Conflict("该成果与需求的配对已在推进中，不能再次推荐")
    if pair.state == PairState.SUGGESTED:
        record_event(
            pair, actor, "transition", PairState.RECOMMENDED, note=note.strip()[:500] or "揭榜选定"
        )
        pair.state = PairState.RECOMMENDED
        pair.state_changed_at = utcnow()
    db.session.flush()
    now = utcnow()
    application.status, application.decided_at, application.suggestion = "chosen", now, pair
    for other in entry.applications:
        if other.id != application.id and other.status == "submitted":
            other.status, other.decided_at = "not_chosen", now
            notifications.notify(
                _team_users(other),
                "challenge",
                f"您对「{need.title}」的揭榜申请未入选",
                f"/challenges/applications/{other.id}",
            )
    notifications.notify(
        _team_users(application) + notifications.org_members(need.organization_id),
        "challenge",
        f"揭榜结果：{application.lead_org.name}入选「{need.title}」，已推荐对接",
        f"/pairs/{pair.id}" if pair.id else "",
    )
    db.session.commit()
    after_commit(pair.id, from_state, pair.state, actor.id)
    return application


def add_stage(application_id: int, actor_id: int, raw: dict) -> SupportStage:
    """Record a stage of the support granted to the chosen application."""
    actor = inputs.staff(actor_id)
    application = _application(application_id, "chosen", "只能为已入选的揭榜申请登记支持资金")
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
        _team_users(application),
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


def attachment(application_id: int, attachment_id: int, user_id: int) -> ApplicationAttachment:
    application = get_visible(application_id, user_id)
    row = db.session.get(ApplicationAttachment, attachment_id)
    if row is None or row.application_id != application.id:
        raise NotFound("附件不存在")
    return row


def linked_scores(need, achievement_ids: list[int]) -> dict[int, float | None]:
    """The matcher's score of the need against each linked achievement.

    A stored suggestion gives it; otherwise the current model ranks the need once (outside the
    stored top-k the pair still has a score). None when no model has been fitted yet.
    """
    stored = dict(
        db.session.execute(
            select(Suggestion.achievement_id, Suggestion.score).where(
                Suggestion.need_id == need.id, Suggestion.achievement_id.in_(achievement_ids)
            )
        ).all()
    )
    missing = [i for i in achievement_ids if i not in stored]
    if missing:
        stored.update(_model_scores(need, missing))
    return {i: stored.get(i) for i in achievement_ids}


def _model_scores(need, achievement_ids: list[int]) -> dict[int, float]:
    try:
        from matchmaker.runs import inputs as matching_inputs
        from matchmaker.runs import model_store

        _version, matcher = model_store.current_matcher()
        if matcher is None:
            return {}
        _row, listing = matching_inputs.listing_for("need", need.id)
        if listing is None:
            return {}
        total = db.session.scalar(select(func.count(Achievement.id))) or 1
        matches = matcher.match_listing(listing, kind="need", top_k=total, min_score=0.0)
    except Exception:  # noqa: BLE001 - a score is a hint on this page, never a reason to fail it
        return {}
    wanted = set(achievement_ids)
    return {m.achievement_id: m.score for m in matches if m.achievement_id in wanted}
