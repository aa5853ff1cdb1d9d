"""Taking a listed problem on (揭榜): applications, who may see them, and the choice that turns
the chosen application into a pair on the workbench. Expert reviews are in reviews.py, the
support granted in support.py, the scores of linked achievements in scores.py."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from matchmaker.accounts.models import Organization, User
from matchmaker.challenges import bottlenecks, inputs
from matchmaker.challenges.models import (
    ApplicationAchievement,
    ApplicationAttachment,
    ApplicationPartner,
    BottleneckEntry,
    ChallengeApplication,
)
from matchmaker.challenges.reviews import (  # noqa: F401  (re-exported)
    add_review,
    application_in,
    average_total,
)
from matchmaker.challenges.scores import linked_scores
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
    partners, achievements = _team(raw, lead.id, errors)
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
    _announce(application, lead, entry.need)
    db.session.commit()
    return application


def _team(raw: dict, lead_id: int, errors: dict) -> tuple[list, list]:
    """The partner organizations and linked achievements an application names, checked."""
    partner_ids = [i for i in inputs.ids(raw.get("partner_ids")) if i != lead_id]
    partners = [db.session.get(Organization, i) for i in partner_ids[: MAX_PARTNERS + 1]]
    if len(partner_ids) > MAX_PARTNERS:
        errors["partner_ids"] = f"联合单位不能超过{MAX_PARTNERS}家"
    elif any(p is None or p.status != "approved" for p in partners):
        errors["partner_ids"] = "联合单位须为平台上已审核的单位"
    team_ids = {lead_id, *partner_ids}
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
    return partners, achievements


def _announce(application: ChallengeApplication, lead: Organization, need) -> None:
    """Tell the problem's owner and staff about a new application (committed with it)."""
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


def _staff_users():
    return db.session.scalars(select(User).where(User.role == "staff", User.is_active.is_(True)))


def team_users(application: ChallengeApplication) -> list[User]:
    users = []
    for org_id in sorted(team_org_ids(application)):
        users.extend(notifications.org_members(org_id))
    return users


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
    pair, from_state = _recommended_pair(
        entry, application.achievements[0].achievement, actor, note
    )
    db.session.flush()
    now = utcnow()
    application.status, application.decided_at, application.suggestion = "chosen", now, pair
    for other in entry.applications:
        if other.id != application.id and other.status == "submitted":
            other.status, other.decided_at = "not_chosen", now
            notifications.notify(
                team_users(other),
                "challenge",
                f"您对「{need.title}」的揭榜申请未入选",
                f"/challenges/applications/{other.id}",
            )
    notifications.notify(
        team_users(application) + notifications.org_members(need.organization_id),
        "challenge",
        f"揭榜结果：{application.lead_org.name}入选「{need.title}」，已推荐对接",
        f"/pairs/{pair.id}" if pair.id else "",
    )
    db.session.commit()
    after_commit(pair.id, from_state, pair.state, actor.id)
    return application


def _recommended_pair(entry, achievement, actor, note: str) -> tuple[Suggestion, str | None]:
    """The chosen achievement's pair with the problem's need, proposed if new and recommended to
    both sides; with the state it had before (None when new)."""
    need = entry.need
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
    return pair, from_state


def attachment(application_id: int, attachment_id: int, user_id: int) -> ApplicationAttachment:
    application = get_visible(application_id, user_id)
    row = db.session.get(ApplicationAttachment, attachment_id)
    if row is None or row.application_id != application.id:
        raise NotFound("附件不存在")
    return row
