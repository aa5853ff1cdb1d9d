"""Fairs (对接会): create one, register listings, participants' quotas and unavailable slots."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from matchmaker.accounts.models import User
from matchmaker.core.db import utcnow
from matchmaker.core.exceptions import Conflict, Forbidden, NotFound, ServiceError
from matchmaker.core.extensions import db
from matchmaker.core.local_time import LOCAL_TIME, to_local, to_utc  # noqa: F401  (re-exported)
from matchmaker.fairs.models import Fair, FairParticipant, FairRegistration, MustMeet
from matchmaker.fairs.schemas import MAX_SLOTS, check_fair, clock
from matchmaker.listings.models import Achievement, Need, achievement_fields, need_fields
from matchmaker.pairs.access import can_view
from matchmaker.pairs.models import Suggestion

LISTING_MODELS = {"need": Need, "achievement": Achievement}


@dataclass(frozen=True)
class Slot:
    number: int  # 0-based
    starts: datetime
    ends: datetime

    @property
    def label(self) -> str:
        return f"{self.starts:%H:%M}–{self.ends:%H:%M}"


def slot_times(fair: Fair) -> list[Slot]:
    """The fair's meeting slots: slot-length steps from start to end, skipping breaks."""
    day = fair.held_on
    cursor = datetime.combine(day, fair.starts_at)
    end = datetime.combine(day, fair.ends_at)
    pauses = [
        (datetime.combine(day, clock(a, "breaks")), datetime.combine(day, clock(b, "breaks")))
        for a, b in (fair.breaks or [])
    ]
    step = timedelta(minutes=fair.slot_minutes)
    slots: list[Slot] = []
    while cursor + step <= end and len(slots) < MAX_SLOTS:
        clash = next((b for a, b in pauses if cursor < b and cursor + step > a), None)
        if clash is not None:
            cursor = clash
            continue
        slots.append(Slot(len(slots), cursor, cursor + step))
        cursor += step
    return slots


def create_fair(
    name: str,
    held_on: date | str,
    *,
    venue: str = "",
    starts_at: str = "09:00",
    ends_at: str | None = "17:00",
    slot_minutes: int | str = 20,
    breaks: str | list = "",
    slots: int | None = None,
    tables: int = 10,
    default_quota: int = 5,
    org_quota: int | None = None,
    registration_closes_at: datetime | str | None = None,
    actor_id: int | None = None,
) -> Fair:
    """Create a fair open for registration; `slots` fixes the slot count instead of an end time."""
    raw = {
        "name": name,
        "held_on": held_on,
        "venue": venue,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "slot_minutes": slot_minutes,
        "breaks": breaks,
        "slots": slots,
        "tables": tables,
        "default_quota": default_quota,
        "org_quota": org_quota,
        "registration_closes_at": registration_closes_at,
    }
    return open_fair(raw, actor_id)


def open_fair(raw, actor_id: int | None = None) -> Fair:
    """Create a fair from raw input (the staff form, or create_fair's keywords)."""
    checked = check_fair(raw)
    if checked.errors:
        raise ServiceError(next(iter(checked.errors.values())), errors=checked.errors)
    return _save_fair(checked.values, actor_id)


def _save_fair(values: dict, actor_id: int | None) -> Fair:
    """Store a checked fair, refusing a timetable with no room for a single slot."""
    fair = Fair(
        name=values["name"],
        held_on=values["held_on"],
        venue=values["venue"],
        starts_at=values["starts_at"],
        ends_at=values["ends_at"],
        slot_minutes=values["slot_minutes"],
        breaks=values["breaks"],
        tables_count=values["tables"],
        default_quota=values["default_quota"],
        org_quota=values["org_quota"],
        registration_closes_at=values["registration_closes_at"],
        status="open",
        created_by_id=actor_id,
    )
    fair.slots_count = len(slot_times(fair))
    if fair.slots_count == 0:
        raise ServiceError("开始与结束之间放不下一个时段", field="ends_at")
    db.session.add(fair)
    db.session.commit()
    return fair


def get_fair(fair_id: int) -> Fair:
    fair = db.session.get(Fair, fair_id)
    if fair is None:
        raise NotFound("对接会不存在")
    return fair


def registration_open(fair: Fair, now: datetime | None = None) -> bool:
    """Whether organizations may still register listings themselves."""
    if fair.status != "open":
        return False
    return fair.registration_closes_at is None or (now or utcnow()) < fair.registration_closes_at


def _actor(actor_id: int) -> User:
    user = db.session.get(User, actor_id)
    if user is None:
        raise Forbidden("需要登录")
    return user


def register_listing(
    fair_id: int, kind: str, listing_id: int, actor_id: int, quota: int | None = None
) -> FairRegistration:
    """Register one published listing; its organization's members may, or staff at any time."""
    fair, actor = get_fair(fair_id), _actor(actor_id)
    model = LISTING_MODELS.get(kind)
    if model is None:
        raise ServiceError("请选择成果或需求", field="kind")
    listing = db.session.get(model, listing_id)
    if listing is None:
        raise NotFound("成果或需求不存在")
    if actor.role != "staff":
        if listing.organization_id != actor.organization_id:
            raise Forbidden("只能为本单位的成果或需求报名")
        if not registration_open(fair):
            raise Conflict("报名已截止")
    if fair.status in ("published", "closed") and actor.role != "staff":
        raise Conflict("对接会日程已发布，不能再报名")
    if listing.status != "published":
        raise ServiceError("只有已发布的成果或需求可以报名", field="listing")
    if quota is not None and not 0 <= quota <= fair.slots_count:
        raise ServiceError(f"洽谈配额应为 0–{fair.slots_count}", field="quota")
    column = FairRegistration.need_id if kind == "need" else FairRegistration.achievement_id
    reg = db.session.scalar(
        select(FairRegistration).where(FairRegistration.fair_id == fair.id, column == listing.id)
    )
    if reg is None:
        reg = FairRegistration(fair_id=fair.id, registered_by_id=actor.id)
        setattr(reg, f"{kind}_id", listing.id)
        db.session.add(reg)
    reg.quota = quota
    db.session.commit()
    return reg


def unregister_listing(fair_id: int, registration_id: int, actor_id: int) -> None:
    """Withdraw a registration before the timetable is published."""
    fair, actor = get_fair(fair_id), _actor(actor_id)
    reg = db.session.get(FairRegistration, registration_id)
    if reg is None or reg.fair_id != fair.id:
        raise NotFound("报名记录不存在")
    if actor.role != "staff" and reg.listing.organization_id != actor.organization_id:
        raise Forbidden("只能撤回本单位的报名")
    if fair.status in ("published", "closed"):
        raise Conflict("日程已发布，请联系工作人员取消洽谈")
    db.session.delete(reg)
    db.session.commit()


def register_all(fair_id: int, actor_id: int | None, field_ids: list[int] | None = None) -> int:
    """Register every published listing (of the given fields), as staff or the CLI; count them."""
    fair = get_fair(fair_id)
    if actor_id is not None and _actor(actor_id).role != "staff":
        raise Forbidden("只有工作人员可以批量报名")
    if fair.status == "closed":
        raise Conflict("对接会已结束")
    added = 0
    for kind, model, link in (
        ("need", Need, need_fields),
        ("achievement", Achievement, achievement_fields),
    ):
        column = getattr(FairRegistration, f"{kind}_id")
        done = set(db.session.scalars(select(column).where(FairRegistration.fair_id == fair.id)))
        query = select(model.id).where(model.status == "published")
        if field_ids:
            key = link.c.need_id if kind == "need" else link.c.achievement_id
            query = query.where(model.id.in_(select(key).where(link.c.field_id.in_(field_ids))))
        for listing_id in db.session.scalars(query):
            if listing_id not in done:
                reg = FairRegistration(fair_id=fair.id, registered_by_id=actor_id)
                setattr(reg, f"{kind}_id", listing_id)
                db.session.add(reg)
                added += 1
    db.session.commit()
    return added


def set_participant(
    fair_id: int,
    organization_id: int,
    actor_id: int,
    *,
    quota: int | None = None,
    unavailable_slots: list[int] | None = None,
) -> FairParticipant:
    """Record an organization's quota (staff) and the slots its representative cannot make."""
    fair, actor = get_fair(fair_id), _actor(actor_id)
    if actor.role != "staff" and actor.organization_id != organization_id:
        raise Forbidden("只能修改本单位的参会信息")
    part = db.session.scalar(
        select(FairParticipant).where(
            FairParticipant.fair_id == fair.id, FairParticipant.organization_id == organization_id
        )
    )
    if part is None:
        part = FairParticipant(fair_id=fair.id, organization_id=organization_id)
        db.session.add(part)
    if actor.role == "staff":
        if quota is not None and quota < 0:
            raise ServiceError("单位配额不能为负数", field="quota")
        part.quota = quota
    if unavailable_slots is not None:
        bad = [s for s in unavailable_slots if not 0 <= s < fair.slots_count]
        if bad:
            raise ServiceError("所选时段不在本次对接会的日程内", field="unavailable_slots")
        part.unavailable_slots = sorted(set(unavailable_slots))
    db.session.commit()
    return part


def request_must_meet(fair_id: int, suggestion_id: int, actor_id: int) -> MustMeet:
    """Ask that a pair meets at the fair; one of its sides (or staff) may ask."""
    fair, actor = get_fair(fair_id), _actor(actor_id)
    pair = db.session.get(Suggestion, suggestion_id)
    if pair is None:
        raise NotFound("配对不存在")
    sides = {pair.need.organization_id, pair.achievement.organization_id}
    if actor.role != "staff" and (actor.organization_id not in sides or not can_view(actor, pair)):
        raise Forbidden("只能为推荐给本单位的配对提出必谈请求")
    if pair.state in ("dismissed", "declined", "closed"):
        raise Conflict("该配对已被驳回或谢绝，不能安排洽谈")
    registered = db.session.scalar(
        select(FairRegistration.id).where(
            FairRegistration.fair_id == fair.id, FairRegistration.need_id == pair.need_id
        )
    ) and db.session.scalar(
        select(FairRegistration.id).where(
            FairRegistration.fair_id == fair.id,
            FairRegistration.achievement_id == pair.achievement_id,
        )
    )
    if not registered:
        raise ServiceError("该配对的成果和需求都需先报名本次对接会", field="suggestion_id")
    row = db.session.scalar(
        select(MustMeet).where(MustMeet.fair_id == fair.id, MustMeet.suggestion_id == pair.id)
    )
    if row is None:
        row = MustMeet(fair_id=fair.id, suggestion_id=pair.id, requested_by_id=actor.id)
        db.session.add(row)
        db.session.commit()
    return row


def list_fairs() -> list[Fair]:
    return list(db.session.scalars(select(Fair).order_by(Fair.held_on.desc(), Fair.id.desc())))
