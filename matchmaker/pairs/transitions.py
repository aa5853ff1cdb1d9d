"""The pair's life: one state machine for a need–achievement pair, from suggestion to contract.

Every move goes through `transition`, which locks the pair's row (SELECT ... FOR UPDATE on
PostgreSQL; the version column catches the rest), checks who may act and whether the move is legal,
writes a PairEvent and commits. History is only ever appended to.
"""

from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from matchmaker.accounts.models import User
from matchmaker.core.db import utcnow
from matchmaker.core.exceptions import Conflict, Forbidden, NotFound, ServiceError
from matchmaker.core.extensions import db
from matchmaker.core.signals import pair_moved
from matchmaker.core.text_limits import NOTE_MAX, check_length
from matchmaker.listings.models import Achievement, Need
from matchmaker.pairs.access import BROKER_ROLES, can_view, check_broker, sides_of, was_recommended
from matchmaker.pairs.models import CONTRACT_TYPES, Contract, Meeting, PairEvent, Suggestion
from matchmaker.pairs.states import (  # noqa: F401  (TRANSITIONS, FINAL_STATES: used through here)
    ANSWER_STATES,
    FINAL_STATES,
    PAIR_STATES,
    TRANSITIONS,
    PairState,
    state_label,
)

DISMISS_REASONS = {
    "off_topic": "内容不相关",
    "maturity_mismatch": "成熟度不匹配",
    "price_mismatch": "价格与预算不符",
    "same_group": "同一集团内部",
    "other": "其他",
}
DECLINE_REASONS = {
    "not_relevant": "与需求/成果不符",
    "maturity_mismatch": "成熟度不匹配",
    "price_mismatch": "价格与预算不符",
    "no_plan": "暂无合作计划",
    "other": "其他",
}
CLOSE_REASONS = {
    "no_response": "对方无回应",
    "negotiation_failed": "洽谈未果",
    "withdrawn": "需求或成果已撤回",
    "duplicate": "重复配对",
    "other": "其他",
}
SIDE_LABELS = {"need": "需求方", "achievement": "成果方"}
MAX_REASON = 40
MAX_NOTE = NOTE_MAX


def reason_label(reason: str) -> str:
    for table in (DISMISS_REASONS, DECLINE_REASONS, CLOSE_REASONS):
        if reason in table:
            return table[reason]
    return reason


def is_worked(pair: Suggestion) -> bool:
    """Whether a broker or party has touched the pair; a rematch must then leave it alone."""
    return pair.state != PairState.SUGGESTED or pair.source == "broker" or bool(pair.events)


def worked_clause():
    """SQL condition true for worked pairs, for reruns that update suggestions in bulk."""
    return or_(
        Suggestion.state != PairState.SUGGESTED,
        Suggestion.source == "broker",
        exists().where(PairEvent.suggestion_id == Suggestion.id),
    )


# --- loading and committing ------------------------------------------------------------------


def active_user(actor_id: int) -> User:
    user = db.session.get(User, actor_id) if actor_id else None
    if user is None or not user.is_active:
        raise Forbidden("用户不存在或已停用")
    return user


def lock_pair(pair_id: int) -> Suggestion:
    # Waits for a concurrent mover on PostgreSQL, then sees its committed state.
    pair = db.session.execute(
        select(Suggestion)
        .where(Suggestion.id == pair_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if pair is None:
        raise NotFound("配对不存在")
    return pair


# Who may see a pair, and its page, read both listings with their fields and organizations: one
# query instead of seven lazy loads (listings declare one to five fields, so the joined rows are
# at most 25; two more round trips for the fields cost more on every pair page).
# Built once, on first use: loader options configure the mappers, which needs every domain's
# models.
@cache
def _with_listings() -> tuple:
    return tuple(
        joinedload(side).options(joinedload(model.organization), joinedload(model.field_links))
        for side, model in ((Suggestion.need, Need), (Suggestion.achievement, Achievement))
    )


def get_pair(pair_id: int, viewer_id: int) -> Suggestion:
    """A pair the viewer may see."""
    viewer = active_user(viewer_id)
    pair = db.session.get(Suggestion, pair_id, options=_with_listings())
    if pair is None:
        raise NotFound("配对不存在")
    if not can_view(viewer, pair):
        raise Forbidden("无权查看该配对")
    return pair


def check_note(note: str, field: str = "note") -> str:
    """A pair note within MAX_NOTE characters (a page shows every note of the pair's history)."""
    return check_length(note, MAX_NOTE, "备注", field)


def record_event(pair, actor, kind, to_state, side=None, reason="", note="") -> PairEvent:
    event = PairEvent(
        suggestion=pair,
        kind=kind,
        from_state=pair.state if kind != "propose" else None,
        to_state=to_state,
        actor_id=actor.id,
        side=side,
        reason=reason,
        note=note,
        at=utcnow(),
    )
    db.session.add(event)
    return event


def commit_pair(pair: Suggestion) -> None:
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("该配对刚被其他人修改，请刷新后重试") from None
    except IntegrityError:
        db.session.rollback()
        raise Conflict("该配对刚被其他人修改或数据冲突，请刷新后重试") from None


def after_commit(pair_id: int, from_state: str | None, to_state: str, actor_id: int) -> None:
    from matchmaker.notifications import notify as notifications

    if from_state != to_state:
        pair_moved.send(pair_id, from_state=from_state, to_state=to_state, actor_id=actor_id)
    notifications.kick_outbox()


# --- the state machine -------------------------------------------------------------------------


def transition(
    pair_id: int,
    actor_id: int,
    to: str,
    note: str = "",
    reason: str = "",
    side: str | None = None,
    contract: dict | None = None,
    expected_version: int | None = None,
    meeting: dict | None = None,
) -> Suggestion:
    """Move a pair to state `to` or record a side's answer; refuse illegal or unauthorized moves."""
    actor = active_user(actor_id)
    note, reason = (note or "").strip(), (reason or "").strip()
    pair = lock_pair(pair_id)
    from_state = pair.state
    try:
        # Who may act comes first: someone outside the pair learns nothing from its validation.
        if not can_view(actor, pair):
            raise Forbidden("无权操作该配对")
        if to not in PAIR_STATES:
            raise ServiceError(f"未知的目标状态：{to}", field="to")
        if side not in (None, "", "need", "achievement"):
            raise ServiceError("side 只能是 need 或 achievement", field="side")
        check_note(note)
        if expected_version is not None and pair.lock_version != expected_version:
            raise Conflict(
                f"该配对已被他人修改（当前状态：{state_label(pair.state)}），请刷新后重试"
            )
        if to in ANSWER_STATES and (
            from_state == PairState.RECOMMENDED or actor.role not in BROKER_ROLES
        ):
            event = _answer(pair, actor, to, side or None, reason, note)
        else:
            event = _move(pair, actor, to, reason, note, contract, meeting)
        from matchmaker.pairs import notices

        notices.on_pair_event(pair, event, actor)
    except ServiceError:
        db.session.rollback()  # releases the row lock
        raise
    commit_pair(pair)
    after_commit(pair.id, from_state, pair.state, actor.id)
    return pair


def _illegal(pair: Suggestion, to: str) -> Conflict:
    if pair.state == to:
        return Conflict(f"该配对已经是「{state_label(to)}」状态，可能已被其他人处理")
    return Conflict(f"不能从「{state_label(pair.state)}」变为「{state_label(to)}」")


def _move(pair, actor, to, reason, note, contract, meeting) -> PairEvent:
    check_broker(actor, pair)
    if to not in TRANSITIONS[pair.state]:
        raise _illegal(pair, to)
    if to == PairState.DISMISSED:
        if reason not in DISMISS_REASONS:
            raise ServiceError("请选择驳回原因", field="reason")
        if reason == "other" and not note:
            raise ServiceError("原因为“其他”时请填写说明", field="note")
    if to == PairState.CLOSED and not reason:
        raise ServiceError("关闭配对时请填写原因", field="reason")
    if len(reason) > MAX_REASON:
        raise ServiceError(f"原因不能超过{MAX_REASON}个字符", field="reason")
    if to == PairState.CONTRACT:
        db.session.add(Contract(suggestion=pair, recorded_by_id=actor.id, **_contract(contract)))
    if to == PairState.MEETING_SCHEDULED:
        db.session.add(Meeting(suggestion=pair, **_meeting(meeting)))
    if to == PairState.MET:
        for row in db.session.scalars(select(Meeting).where(Meeting.suggestion_id == pair.id)):
            if row.status in ("planned", "confirmed"):
                row.status = "held"
    event = record_event(pair, actor, "transition", to, reason=reason, note=note)
    if actor.role == "broker" and pair.broker_id is None:
        pair.broker_id = actor.id
    if to in (PairState.DISMISSED, PairState.CLOSED):
        pair.reason = reason
    _set_state(pair, to)
    return event


def _set_state(pair: Suggestion, to: str) -> None:
    if pair.state != to:
        pair.state = to
        pair.state_changed_at = utcnow()
    pair.snoozed_until = None


def _answer(pair, actor, to, side, reason, note) -> PairEvent:
    """Record one side's interested/declined answer; the pair moves once the answers decide it."""
    if actor.role in BROKER_ROLES:
        check_broker(actor, pair)
        if side is None:
            raise ServiceError("代为答复时请指明是需求方还是成果方", field="side")
    else:
        own = sides_of(actor, pair)
        if not own or (side and side not in own) or not was_recommended(pair):
            raise Forbidden("只能答复推荐给本单位的配对，且只能代表本单位一方")
        if side is None:
            if len(own) > 1:
                raise ServiceError("请指明代表需求方还是成果方答复", field="side")
            side = own[0]
    if pair.state != PairState.RECOMMENDED:
        raise Conflict(f"该配对当前为「{state_label(pair.state)}」，不能再答复")
    column = f"{side}_answer"
    if getattr(pair, column) is not None:
        raise Conflict(f"{SIDE_LABELS[side]}已经答复过")
    if to == PairState.DECLINED and not reason:
        raise ServiceError("婉拒时请说明原因", field="reason")
    if len(reason) > MAX_REASON:
        raise ServiceError(f"原因不能超过{MAX_REASON}个字符", field="reason")
    answer = "interested" if to == PairState.ACCEPTED else "declined"
    setattr(pair, column, answer)
    if answer == "declined":
        new_state = PairState.DECLINED
        pair.reason = reason
    elif pair.need_answer == "interested" and pair.achievement_answer == "interested":
        new_state = PairState.ACCEPTED
    else:
        new_state = PairState.RECOMMENDED
    event = record_event(pair, actor, "answer", new_state, side=side, reason=reason, note=note)
    _set_state(pair, new_state)
    return event


def _contract(data: dict | None) -> dict:
    data = data or {}
    errors = {}
    kind = (data.get("type") or "").strip()
    if kind not in CONTRACT_TYPES:
        errors["contract.type"] = "合同类型须为：" + "、".join(CONTRACT_TYPES)
    amount = None
    try:
        amount = Decimal(str(data.get("amount", "")).strip())
        if not amount.is_finite() or amount < 0:
            raise InvalidOperation
        if amount >= Decimal("1e12"):
            errors["contract.amount"] = "合同金额过大"
    except (InvalidOperation, ValueError):
        errors["contract.amount"] = "合同金额须为不小于0的数字（万元）"
    signed_on = None
    raw = data.get("signed_on")
    try:
        signed_on = raw if isinstance(raw, date) else date.fromisoformat(str(raw or "").strip())
        if signed_on > date.today():
            errors["contract.signed_on"] = "签订日期不能晚于今天"
    except ValueError:
        errors["contract.signed_on"] = "签订日期格式应为 YYYY-MM-DD"
    if errors:
        raise ServiceError("合同信息有误", errors=errors)
    return {
        "contract_type": kind,
        "amount": amount.quantize(Decimal("0.01")),
        "signed_on": signed_on,
    }


def _meeting(data: dict | None) -> dict:
    from matchmaker.pairs.meetings import meeting_values

    data = data or {}
    return meeting_values(data, past_allowed=bool(data.get("past_allowed")))


def outcome_message(pair_id: int) -> str:
    """What the last move did, in words that match the pair's state (for the flash message)."""
    pair = db.session.get(Suggestion, pair_id)
    db.session.refresh(pair)
    event = pair.events[-1] if pair.events else None
    now = f"配对当前为「{state_label(pair.state)}」"
    if event is None:
        return now
    if event.kind == "answer":
        side = SIDE_LABELS.get(event.side or "", "")
        other = SIDE_LABELS["achievement" if event.side == "need" else "need"]
        if event.to_state == PairState.DECLINED:
            return f"已记录{side}婉拒，{now}"
        if event.to_state == PairState.ACCEPTED:
            return f"已记录{side}有意向：双方均有意向，{now}，可查看对方联系方式"
        return f"已记录{side}有意向，等待{other}答复；{now}"
    if pair.state == PairState.RECOMMENDED:
        return f"已推荐给双方，等待双方答复；{now}"
    if pair.state == PairState.MEETING_SCHEDULED:
        from matchmaker.pairs.meetings import current, describe

        meeting = current(pair.id)
        where = f"（{describe(meeting)}）" if meeting is not None else ""
        return f"已安排约见{where}并通知双方；{now}"
    return f"已更新：{now}"
