"""A pair's meeting: when and where (or online), rescheduled or called off with a reason, and the
calendar file (.ics, RFC 5545) both sides add it with.

Meeting times are the bureau's local time (Asia/Shanghai), naive, like a fair's slots.
"""

from datetime import UTC, datetime, timedelta
from functools import cache
from urllib.parse import urlparse

from icalendar import Calendar, Event
from sqlalchemy import bindparam, select

from matchmaker.core.db import utcnow
from matchmaker.core.exceptions import Conflict, NotFound, ServiceError
from matchmaker.core.extensions import db
from matchmaker.core.local_time import LOCAL_TIME, to_local
from matchmaker.pairs.access import check_broker
from matchmaker.pairs.models import Meeting, Suggestion
from matchmaker.pairs.states import PairState

OPEN = ("planned", "confirmed")
DURATION = timedelta(hours=1)
MAX_REASON = 200


def local_now() -> datetime:
    return to_local(utcnow())


def _parse_time(raw) -> datetime:
    if isinstance(raw, datetime):
        return raw
    raw = (raw or "").strip() if isinstance(raw, str) else ""
    if not raw:
        raise ServiceError("请填写约见时间", field="meeting.starts_at")
    try:
        return datetime.fromisoformat(raw.replace(" ", "T"))
    except ValueError:
        raise ServiceError("约见时间格式应为 YYYY-MM-DD HH:MM", field="meeting.starts_at") from None


def meeting_values(data: dict | None, past_allowed: bool = False) -> dict:
    """A checked meeting: a time (in the future unless recording one that took place), and a
    place or an online link (http/https)."""
    data = data or {}
    errors = {}
    values = {"status": "planned"}
    try:
        starts = _parse_time(data.get("starts_at"))
        if not past_allowed and starts <= local_now():
            errors["meeting.starts_at"] = "约见时间须晚于现在"
        values["starts_at"] = starts.replace(second=0, microsecond=0)
    except ServiceError as e:
        errors.update(e.errors)
    place = (data.get("place") or "").strip()
    url = (data.get("online_url") or "").strip()
    if len(place) > 200:
        errors["meeting.place"] = "地点不能超过200个字符"
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or len(url) > 300:
            errors["meeting.online_url"] = "线上会议链接须以 http:// 或 https:// 开头"
    if not place and not url:
        errors["meeting.place"] = "请填写约见地点或线上会议链接"
    if errors:
        raise ServiceError("约见信息有误", errors=errors)
    values.update(place=place, online_url=url)
    return values


def current(pair_id: int) -> Meeting | None:
    """The pair's meeting that is still to take place (or the last one)."""
    rows = db.session.scalars(_meetings_of_pair(), {"pair_id": pair_id}).all()
    return next((m for m in rows if m.status in OPEN), rows[0] if rows else None)


@cache
def _meetings_of_pair():
    # Built once: on every pair page, building the statement cost more CPU than running it.
    return (
        select(Meeting)
        .where(Meeting.suggestion_id == bindparam("pair_id"))
        .order_by(Meeting.id.desc())
    )


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("请填写原因", field="meeting.reason")
    if len(reason) > MAX_REASON:
        raise ServiceError(f"原因不能超过{MAX_REASON}个字符", field="meeting.reason")
    return reason


def _open_meeting(pair: Suggestion) -> Meeting:
    if pair.state != PairState.MEETING_SCHEDULED:
        raise Conflict("该配对当前没有待进行的约见")
    meeting = current(pair.id)
    if meeting is None or meeting.status not in OPEN:
        raise Conflict("该配对当前没有待进行的约见")
    return meeting


def describe(meeting: Meeting) -> str:
    where = "、".join(x for x in (meeting.place, meeting.online_url) if x)
    when = f"{meeting.starts_at:%Y-%m-%d %H:%M}" if meeting.starts_at else "时间待定"
    return f"{when}，{where}"


def reschedule(pair_id: int, actor_id: int, data: dict, reason: str) -> Meeting:
    """Move the meeting to another time or place; both sides are told why."""
    from matchmaker.pairs import notices
    from matchmaker.pairs import transitions as pairs

    actor = pairs.active_user(actor_id)
    pair = pairs.lock_pair(pair_id)
    try:
        check_broker(actor, pair)
        meeting = _open_meeting(pair)
        values = meeting_values(data)
        reason = _reason(reason)
        meeting.starts_at, meeting.place = values["starts_at"], values["place"]
        meeting.online_url = values["online_url"]
        meeting.change_reason, meeting.sequence = reason, meeting.sequence + 1
        note = f"约见改期：{describe(meeting)}；原因：{reason}"
        pairs.record_event(pair, actor, "note", pair.state, note=note)
        _tell(pair, actor, "meeting_moved", f"对接{notices._pair_title(pair)}的{note}")
    except ServiceError:
        db.session.rollback()
        raise
    pairs.commit_pair(pair)
    pairs.after_commit(pair.id, pair.state, pair.state, actor.id)
    return meeting


def cancel(pair_id: int, actor_id: int, reason: str) -> Suggestion:
    """Call the meeting off; the pair goes back to 双方有意向 so another can be arranged."""
    from matchmaker.pairs import notices
    from matchmaker.pairs import transitions as pairs

    actor = pairs.active_user(actor_id)
    pair = pairs.lock_pair(pair_id)
    try:
        check_broker(actor, pair)
        meeting = _open_meeting(pair)
        reason = _reason(reason)
        meeting.status, meeting.change_reason = "cancelled", reason
        meeting.sequence += 1
        note = f"约见已取消：{reason}"
        pairs.record_event(pair, actor, "transition", PairState.ACCEPTED, note=note)
        pair.state, pair.state_changed_at = PairState.ACCEPTED, utcnow()
        _tell(pair, actor, "meeting_cancelled", f"对接{notices._pair_title(pair)}的{note}")
    except ServiceError:
        db.session.rollback()
        raise
    pairs.commit_pair(pair)
    pairs.after_commit(pair.id, PairState.MEETING_SCHEDULED, PairState.ACCEPTED, actor.id)
    return pair


def _tell(pair: Suggestion, actor, kind: str, message: str) -> None:
    from matchmaker.notifications import notify as notifications
    from matchmaker.pairs import notices

    users = notifications.org_members(pair.need.organization_id) + notifications.org_members(
        pair.achievement.organization_id
    )
    notifications.notify(users, kind, message, notices.pair_link(pair.id), actor.id)


def ics(pair: Suggestion, host: str = "matchmaker") -> bytes:
    """The pair's meeting as an iCalendar file; a cancelled one is sent as CANCELLED."""
    meeting = current(pair.id)
    if meeting is None or meeting.starts_at is None:
        raise NotFound("该配对没有约见")
    cal = Calendar()
    cal.add("prodid", "-//matchmaker//科技成果转化对接平台//ZH")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if meeting.status == "cancelled" else "PUBLISH")
    event = Event()
    event.add("uid", f"meeting-{meeting.id}@{host}")
    event.add("dtstamp", datetime.now(UTC))
    starts = meeting.starts_at.replace(tzinfo=LOCAL_TIME)
    event.add("dtstart", starts)
    event.add("dtend", starts + DURATION)
    event.add("sequence", meeting.sequence)
    event.add("summary", f"对接洽谈：{pair.need.title} × {pair.achievement.title}")
    if meeting.place:
        event.add("location", meeting.place)
    if meeting.online_url:
        event.add("url", meeting.online_url)
    lines = [
        f"需求：{pair.need.title}（{pair.need.organization.name}）",
        f"成果：{pair.achievement.title}（{pair.achievement.organization.name}）",
    ]
    if meeting.online_url:
        lines.append(f"线上会议：{meeting.online_url}")
    if meeting.change_reason:
        lines.append(f"变更原因：{meeting.change_reason}")
    event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if meeting.status == "cancelled" else "CONFIRMED")
    cal.add_component(event)
    return cal.to_ical()
