"""The bottleneck list (百项"卡脖子"技术问题清单): screening flagged needs, classifying them,
publishing numbered versions, and taking problems off the list when they are done with."""

from datetime import date

from sqlalchemy import func, select

from matchmaker.accounts.models import Field, User
from matchmaker.challenges import inputs
from matchmaker.challenges.models import (
    CATEGORIES,
    DIFFICULTIES,
    REMOVAL_REASONS,
    BottleneckEntry,
    BottleneckEvent,
    BottleneckListVersion,
)
from matchmaker.core.db import utcnow
from matchmaker.core.exceptions import Conflict, NotFound, ServiceError
from matchmaker.core.extensions import db
from matchmaker.listings.models import Need
from matchmaker.notifications import notify as notifications

DECISIONS = ("accept", "merge", "return")
MAX_REASON = 500


def _staff(actor_id: int) -> User:
    return inputs.staff(actor_id, "只有工作人员可以管理卡脖子清单")


def _entry(entry_id: int, lock: bool = False) -> BottleneckEntry:
    query = select(BottleneckEntry).where(BottleneckEntry.id == entry_id)
    if lock:
        query = query.with_for_update()
    entry = db.session.scalar(query)
    if entry is None:
        raise NotFound("该卡脖子问题不存在")
    return entry


def _event(entry: BottleneckEntry, kind: str, actor: User | None, note: str = "") -> None:
    db.session.add(
        BottleneckEvent(
            entry_id=entry.id, kind=kind, note=note, actor_id=actor.id if actor else None
        )
    )


def _tell_poster(need: Need, message: str, link: str) -> None:
    notifications.notify(
        notifications.org_members(need.organization_id), "bottleneck", message, link
    )


def screening_queue() -> list:
    """Published needs flagged 卡脖子 that are not yet decided, oldest first."""
    decided = select(BottleneckEntry.need_id).where(BottleneckEntry.status != "returned")
    return list(
        db.session.scalars(
            select(Need)
            .where(
                Need.is_bottleneck.is_(True), Need.status == "published", Need.id.not_in(decided)
            )
            .order_by(Need.published_at, Need.id)
        )
    )


def screen(need_id: int, actor_id: int, decision: str, reason: str = "", merge_into=None):
    """Accept a flagged need into the list, merge it into a listed problem, or return it."""
    actor = _staff(actor_id)
    if decision not in DECISIONS:
        raise ServiceError("请选择处理方式：入选、合并或退回", field="decision")
    need = db.session.get(Need, need_id)
    if need is None:
        raise NotFound("需求不存在")
    if not need.is_bottleneck or need.status != "published":
        raise Conflict("只能筛选已发布且标记为卡脖子的需求")
    errors: dict = {}
    reason = inputs.text(reason, "reason", errors, MAX_REASON, required=decision != "accept")
    target = None
    if decision == "merge":
        target_id = inputs.ids([merge_into])
        target = db.session.get(BottleneckEntry, target_id[0]) if target_id else None
        if target is None or target.status != "listed":
            errors["merge_into"] = "请选择清单中已入选的问题"
    if errors:
        raise ServiceError("请检查筛选意见", errors=errors)
    entry = db.session.scalar(select(BottleneckEntry).where(BottleneckEntry.need_id == need.id))
    if entry is not None and entry.status != "returned":
        raise Conflict("该需求已经处理过")
    if entry is None:
        entry = BottleneckEntry(need=need, year=date.today().year)
        db.session.add(entry)
    main_field = need.fields[0] if need.fields else None
    entry.field_id = entry.field_id or (main_field.id if main_field else None)
    entry.reason = reason
    db.session.flush()
    link = f"/challenges/entries/{entry.id}"
    if decision == "accept":
        entry.status = "listed"
        entry.number = _next_number(entry.year)
        _event(entry, "accepted", actor, reason)
        _tell_poster(need, f"您的卡脖子需求「{need.title}」已入选卡脖子技术问题清单", link)
    elif decision == "merge":
        entry.status, entry.merged_into_id, entry.number = "merged", target.id, None
        _event(entry, "merged", actor, f"并入第{target.number}号：{reason}")
        _tell_poster(need, f"您的卡脖子需求「{need.title}」已与清单中同类问题合并：{reason}", link)
    else:
        entry.status, entry.number = "returned", None
        _event(entry, "returned", actor, reason)
        _tell_poster(need, f"您的卡脖子需求「{need.title}」暂未入选清单：{reason}", link)
    db.session.commit()
    return entry


def _next_number(year: int) -> int:
    top = db.session.scalar(
        select(func.max(BottleneckEntry.number)).where(BottleneckEntry.year == year)
    )
    return (top or 0) + 1


def classify(entry_id: int, actor_id: int, raw: dict) -> BottleneckEntry:
    """Set a listed problem's field, category, difficulty and expected funding."""
    actor = _staff(actor_id)
    entry = _entry(entry_id, lock=True)
    errors: dict = {}
    field_id = inputs.ids([raw.get("field_id")])
    field = db.session.get(Field, field_id[0]) if field_id else None
    if field is None:
        errors["field_id"] = "请选择技术领域"
    category = str(raw.get("category") or "").strip()
    if category not in CATEGORIES:
        errors["category"] = "类别须为：" + "、".join(CATEGORIES)
    difficulty = str(raw.get("difficulty") or "").strip()
    if difficulty not in DIFFICULTIES:
        errors["difficulty"] = "难度须为：" + "、".join(DIFFICULTIES)
    funding = inputs.amount(raw.get("expected_funding"), "expected_funding", errors, required=False)
    if errors:
        db.session.rollback()
        raise ServiceError("请检查分类信息", errors=errors)
    entry.field_id, entry.category, entry.difficulty = field.id, category, difficulty
    entry.expected_funding = funding
    _event(entry, "classified", actor, f"{field.name} · {category} · {difficulty}")
    db.session.commit()
    return entry


def remove(entry_id: int, actor_id: int | None, reason: str, note: str = "") -> BottleneckEntry:
    """Take a problem off the list (solved, withdrawn or expired); the history keeps why."""
    actor = _staff(actor_id) if actor_id is not None else None
    if reason not in REMOVAL_REASONS:
        raise ServiceError("请选择移出原因：" + "、".join(REMOVAL_REASONS.values()), field="reason")
    entry = _entry(entry_id, lock=True)
    if entry.status != "listed":
        db.session.rollback()
        raise Conflict("只有清单中的问题可以移出")
    entry.status = "removed"
    entry.reason = reason
    text = REMOVAL_REASONS[reason] + (f"：{note.strip()[:MAX_REASON]}" if note.strip() else "")
    _event(entry, "removed", actor, text)
    db.session.commit()
    return entry


def sync_with_needs(today: date | None = None) -> int:
    """Take off the list every problem whose need was withdrawn, closed or is past its deadline."""
    today = today or date.today()
    moved = 0
    for entry in db.session.scalars(
        select(BottleneckEntry).where(BottleneckEntry.status == "listed")
    ):
        need = entry.need
        if need.status != "published":
            reason = "withdrawn"
        elif need.deadline is not None and need.deadline < today:
            reason = "expired"
        else:
            continue
        entry.status, entry.reason = "removed", reason
        _event(entry, "removed", None, REMOVAL_REASONS[reason] + "（系统自动）")
        moved += 1
    if moved:
        db.session.commit()
    return moved


def listed(year: int | None = None) -> list[BottleneckEntry]:
    """The problems on the list now, by number."""
    query = select(BottleneckEntry).where(BottleneckEntry.status == "listed")
    if year:
        query = query.where(BottleneckEntry.year == year)
    return list(db.session.scalars(query.order_by(BottleneckEntry.year, BottleneckEntry.number)))


def row_of(entry: BottleneckEntry) -> dict:
    """One line of the published list, as the page, the export and the API show it."""
    need = entry.need
    return {
        "id": entry.id,
        "number": entry.number,
        "year": entry.year,
        "title": need.title,
        "organization": need.organization.name,
        "field": entry.field.name if entry.field else "",
        "category": entry.category,
        "difficulty": entry.difficulty or "",
        "expected_funding": str(entry.expected_funding)
        if entry.expected_funding is not None
        else "",
        "deadline": need.deadline.isoformat() if need.deadline else "",
        "need_id": need.id,
    }


def publish(actor_id: int, year: int | None = None, note: str = "") -> BottleneckListVersion:
    """Publish the year's list as a new numbered version (a snapshot of its rows)."""
    actor = _staff(actor_id)
    year = year or date.today().year
    sync_with_needs()
    entries = listed(year)
    if not entries:
        raise Conflict("清单中还没有入选的问题，不能发布")
    unclassified = [e.number for e in entries if not e.category or not e.difficulty]
    if unclassified:
        raise ServiceError(
            "以下编号的问题尚未分类：" + "、".join(str(n) for n in unclassified), field="entries"
        )
    last = db.session.scalar(
        select(func.max(BottleneckListVersion.version)).where(BottleneckListVersion.year == year)
    )
    version = BottleneckListVersion(
        year=year,
        version=(last or 0) + 1,
        rows=[row_of(e) for e in entries],
        note=note.strip()[:MAX_REASON],
        published_by_id=actor.id,
        published_at=utcnow(),
    )
    db.session.add(version)
    db.session.commit()
    return version


def versions(year: int | None = None) -> list[BottleneckListVersion]:
    query = select(BottleneckListVersion)
    if year:
        query = query.where(BottleneckListVersion.year == year)
    return list(
        db.session.scalars(
            query.order_by(BottleneckListVersion.year.desc(), BottleneckListVersion.version.desc())
        )
    )


def latest_version() -> BottleneckListVersion | None:
    return db.session.scalar(
        select(BottleneckListVersion).order_by(
            BottleneckListVersion.year.desc(), BottleneckListVersion.version.desc()
        )
    )


def public_rows() -> list[dict]:
    """The list as last published, minus problems that have left it since."""
    version = latest_version()
    if version is None:
        return []
    still = {
        e.id: e
        for e in db.session.scalars(
            select(BottleneckEntry).where(BottleneckEntry.status == "listed")
        )
    }
    # The published snapshot wins; a field it lacks (an older snapshot) comes from the entry.
    return [row_of(still[r["id"]]) | r for r in version.rows if r["id"] in still]


def is_public(entry: BottleneckEntry) -> bool:
    return entry.status == "listed" and any(r["id"] == entry.id for r in public_rows())


def history(entry_id: int) -> list[BottleneckEvent]:
    return list(
        db.session.scalars(
            select(BottleneckEvent)
            .where(BottleneckEvent.entry_id == entry_id)
            .order_by(BottleneckEvent.id)
        )
    )


def entries_for_staff() -> list[BottleneckEntry]:
    return list(
        db.session.scalars(
            select(BottleneckEntry).order_by(
                BottleneckEntry.status, BottleneckEntry.number, BottleneckEntry.id
            )
        )
    )
