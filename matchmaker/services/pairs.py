"""The pair's life: one state machine for a need–achievement pair, from suggestion to contract.

Every move goes through `transition`, which locks the pair's row (SELECT ... FOR UPDATE on
PostgreSQL; the version column catches the rest), checks who may act and whether the move is legal,
writes a PairEvent and commits. History is only ever appended to.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from matchmaker.extensions import db
from matchmaker.models import Achievement, Contract, Meeting, Need, PairEvent, Suggestion, User
from matchmaker.models.base import utcnow
from matchmaker.models.fairs import CONTRACT_TYPES
from matchmaker.models.listings import achievement_fields, need_fields
from matchmaker.services import Conflict, Forbidden, NotFound, ServiceError
from matchmaker.services.signals import pair_moved

STATE_LABELS = {
    "suggested": "系统建议",
    "recommended": "已推荐",
    "accepted": "双方有意向",
    "declined": "已婉拒",
    "meeting_scheduled": "已约见",
    "met": "已洽谈",
    "intention": "合作意向",
    "contract": "已签约",
    "dismissed": "已驳回",
    "closed": "已关闭",
}
# Moves a broker makes; party answers (accepted/declined from recommended) are handled apart.
TRANSITIONS = {
    "suggested": ("recommended", "dismissed", "closed"),
    "recommended": ("closed",),
    "accepted": ("meeting_scheduled", "closed"),
    "declined": ("closed",),
    "meeting_scheduled": ("met", "closed"),
    "met": ("intention", "closed"),
    "intention": ("contract", "closed"),
    "contract": (),
    "dismissed": (),
    "closed": (),
}
ANSWER_STATES = ("accepted", "declined")
FINAL_STATES = ("contract", "dismissed", "closed")
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
BROKER_ROLES = ("broker", "staff")
MAX_REASON = 40


def state_label(state: str | None) -> str:
    return STATE_LABELS.get(state or "", state or "")


def reason_label(reason: str) -> str:
    for table in (DISMISS_REASONS, DECLINE_REASONS, CLOSE_REASONS):
        if reason in table:
            return table[reason]
    return reason


# --- who may do what -------------------------------------------------------------------------


def pair_field_ids(pair: Suggestion) -> set[int]:
    return {f.id for f in pair.need.fields} | {f.id for f in pair.achievement.fields}


def covers(user: User, pair: Suggestion) -> bool:
    """Whether a broker works this pair: its fields, or it is assigned to or claimed by them."""
    if user.role == "staff":
        return True
    if user.role != "broker":
        return False
    if user.id in (pair.broker_id, pair.claimed_by_id):
        return True
    return bool({f.id for f in user.fields} & pair_field_ids(pair))


def sides_of(user: User, pair: Suggestion) -> list[str]:
    """The sides of the pair this user's organization speaks for."""
    if user.role not in ("institute", "enterprise") or user.organization_id is None:
        return []
    sides = []
    if pair.need.organization_id == user.organization_id:
        sides.append("need")
    if pair.achievement.organization_id == user.organization_id:
        sides.append("achievement")
    return sides


def was_recommended(pair: Suggestion) -> bool:
    if pair.state not in ("suggested", "dismissed", "closed"):
        return True
    return any(e.to_state == "recommended" for e in pair.events)


def can_view(user: User, pair: Suggestion) -> bool:
    if user.role in BROKER_ROLES:
        return covers(user, pair)
    return bool(sides_of(user, pair)) and was_recommended(pair)


def contacts_revealed(user: User, pair: Suggestion) -> bool:
    """Parties see each other's contacts only once both sides are interested."""
    if user.role in BROKER_ROLES:
        return True
    return pair.need_answer == "interested" and pair.achievement_answer == "interested"


def _check_broker(user: User, pair: Suggestion) -> None:
    if user.role not in BROKER_ROLES:
        raise Forbidden("只有技术经纪人或工作人员可以执行此操作")
    if not covers(user, pair):
        raise Forbidden("该配对不在您负责的领域内")
    if user.role == "broker" and pair.claimed_by_id not in (None, user.id):
        raise Forbidden(f"该配对已由{pair.claimed_by.display_name or pair.claimed_by.login}认领")


def is_worked(pair: Suggestion) -> bool:
    """Whether a broker or party has touched the pair; a rematch must then leave it alone."""
    return pair.state != "suggested" or pair.source == "broker" or bool(pair.events)


def worked_clause():
    """SQL condition true for worked pairs, for reruns that update suggestions in bulk."""
    return or_(
        Suggestion.state != "suggested",
        Suggestion.source == "broker",
        exists().where(PairEvent.suggestion_id == Suggestion.id),
    )


# --- loading and committing ------------------------------------------------------------------


def _actor(actor_id: int) -> User:
    user = db.session.get(User, actor_id) if actor_id else None
    if user is None or not user.is_active:
        raise Forbidden("用户不存在或已停用")
    return user


def _lock(pair_id: int) -> Suggestion:
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


def get_pair(pair_id: int, viewer_id: int) -> Suggestion:
    """A pair the viewer may see."""
    viewer = _actor(viewer_id)
    pair = db.session.get(Suggestion, pair_id)
    if pair is None:
        raise NotFound("配对不存在")
    if not can_view(viewer, pair):
        raise Forbidden("无权查看该配对")
    return pair


def _record(pair, actor, kind, to_state, side=None, reason="", note="") -> PairEvent:
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


def _commit(pair: Suggestion) -> None:
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict("该配对刚被其他人修改，请刷新后重试") from None
    except IntegrityError:
        db.session.rollback()
        raise Conflict("该配对刚被其他人修改或数据冲突，请刷新后重试") from None


def _after_commit(pair_id: int, from_state: str | None, to_state: str, actor_id: int) -> None:
    from matchmaker.services import notifications

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
    actor = _actor(actor_id)
    note, reason = (note or "").strip(), (reason or "").strip()
    if to not in STATE_LABELS:
        raise ServiceError(f"未知的目标状态：{to}", field="to")
    if side not in (None, "", "need", "achievement"):
        raise ServiceError("side 只能是 need 或 achievement", field="side")
    pair = _lock(pair_id)
    from_state = pair.state
    try:
        if expected_version is not None and pair.lock_version != expected_version:
            raise Conflict(
                f"该配对已被他人修改（当前状态：{state_label(pair.state)}），请刷新后重试"
            )
        if to in ANSWER_STATES and (from_state == "recommended" or actor.role not in BROKER_ROLES):
            event = _answer(pair, actor, to, side or None, reason, note)
        else:
            event = _move(pair, actor, to, reason, note, contract, meeting)
        from matchmaker.services import notifications

        notifications.on_pair_event(pair, event, actor)
    except ServiceError:
        db.session.rollback()  # releases the row lock
        raise
    _commit(pair)
    _after_commit(pair.id, from_state, pair.state, actor.id)
    return pair


def _illegal(pair: Suggestion, to: str) -> Conflict:
    if pair.state == to:
        return Conflict(f"该配对已经是「{state_label(to)}」状态，可能已被其他人处理")
    return Conflict(f"不能从「{state_label(pair.state)}」变为「{state_label(to)}」")


def _move(pair, actor, to, reason, note, contract, meeting) -> PairEvent:
    _check_broker(actor, pair)
    if to not in TRANSITIONS[pair.state]:
        raise _illegal(pair, to)
    if to == "dismissed":
        if reason not in DISMISS_REASONS:
            raise ServiceError("请选择驳回原因", field="reason")
        if reason == "other" and not note:
            raise ServiceError("原因为“其他”时请填写说明", field="note")
    if to == "closed" and not reason:
        raise ServiceError("关闭配对时请填写原因", field="reason")
    if len(reason) > MAX_REASON:
        raise ServiceError(f"原因不能超过{MAX_REASON}个字符", field="reason")
    if to == "contract":
        db.session.add(Contract(suggestion=pair, recorded_by_id=actor.id, **_contract(contract)))
    if to == "meeting_scheduled":
        db.session.add(Meeting(suggestion=pair, **_meeting(meeting)))
    if to == "met":
        for row in db.session.scalars(select(Meeting).where(Meeting.suggestion_id == pair.id)):
            if row.status in ("planned", "confirmed"):
                row.status = "held"
    event = _record(pair, actor, "transition", to, reason=reason, note=note)
    if actor.role == "broker" and pair.broker_id is None:
        pair.broker_id = actor.id
    if to in ("dismissed", "closed"):
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
        _check_broker(actor, pair)
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
    if pair.state != "recommended":
        raise Conflict(f"该配对当前为「{state_label(pair.state)}」，不能再答复")
    column = f"{side}_answer"
    if getattr(pair, column) is not None:
        raise Conflict(f"{SIDE_LABELS[side]}已经答复过")
    if to == "declined" and not reason:
        raise ServiceError("婉拒时请说明原因", field="reason")
    if len(reason) > MAX_REASON:
        raise ServiceError(f"原因不能超过{MAX_REASON}个字符", field="reason")
    answer = "interested" if to == "accepted" else "declined"
    setattr(pair, column, answer)
    if answer == "declined":
        new_state = "declined"
        pair.reason = reason
    elif pair.need_answer == "interested" and pair.achievement_answer == "interested":
        new_state = "accepted"
    else:
        new_state = "recommended"
    event = _record(pair, actor, "answer", new_state, side=side, reason=reason, note=note)
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
    data = data or {}
    values = {"place": (data.get("place") or "").strip()[:200], "status": "planned"}
    raw = (data.get("starts_at") or "").strip() if isinstance(data.get("starts_at"), str) else None
    if raw:
        try:
            values["starts_at"] = datetime.fromisoformat(raw)
        except ValueError:
            raise ServiceError(
                "约见时间格式应为 YYYY-MM-DD HH:MM", field="meeting.starts_at"
            ) from None
    return values


# --- work on a pair that keeps its state ----------------------------------------------------------


def _work(pair_id: int, actor_id: int, kind: str, note: str = "", reason: str = "", apply=None):
    actor = _actor(actor_id)
    pair = _lock(pair_id)
    try:
        _check_broker(actor, pair)
        if apply is not None:
            apply(pair, actor)
        event = _record(pair, actor, kind, pair.state, reason=reason, note=note)
        from matchmaker.services import notifications

        notifications.on_pair_event(pair, event, actor)
    except ServiceError:
        db.session.rollback()
        raise
    _commit(pair)
    _after_commit(pair.id, pair.state, pair.state, actor.id)
    return pair


def claim(pair_id: int, actor_id: int) -> Suggestion:
    """Claim a pair so no other broker works it at the same time."""

    def apply(pair, actor):
        if pair.claimed_by_id == actor.id:
            raise Conflict("您已认领该配对")
        if pair.claimed_by_id is not None:
            raise Conflict("该配对已被其他经纪人认领")
        pair.claimed_by_id = actor.id
        if pair.broker_id is None and actor.role == "broker":
            pair.broker_id = actor.id

    return _work(pair_id, actor_id, "claim", apply=apply)


def unclaim(pair_id: int, actor_id: int) -> Suggestion:
    """Release a claim (the claimer or staff)."""

    def apply(pair, actor):
        if pair.claimed_by_id is None:
            raise Conflict("该配对未被认领")
        if actor.role != "staff" and pair.claimed_by_id != actor.id:
            raise Forbidden("只能释放自己认领的配对")
        pair.claimed_by_id = None

    return _work(pair_id, actor_id, "unclaim", apply=apply)


def snooze(pair_id: int, actor_id: int, days: int | str, note: str = "") -> Suggestion:
    """Hide a pair from the queue for some days."""
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise ServiceError("请填写推迟天数", field="days") from None
    if not 1 <= days <= 365:
        raise ServiceError("推迟天数须在1到365之间", field="days")

    def apply(pair, actor):
        if pair.state in FINAL_STATES:
            raise Conflict(f"「{state_label(pair.state)}」的配对无需推迟")
        pair.snoozed_until = utcnow() + timedelta(days=days)

    return _work(pair_id, actor_id, "snooze", note=note or f"推迟{days}天", apply=apply)


def add_note(pair_id: int, actor_id: int, note: str) -> Suggestion:
    """Add a broker's note to the pair's history."""
    note = (note or "").strip()
    if not note:
        raise ServiceError("请填写备注内容", field="note")
    return _work(pair_id, actor_id, "note", note=note)


def reassign(pair_id: int, actor_id: int, broker_id: int | str, note: str = "") -> Suggestion:
    """Hand a pair to another broker (staff only)."""
    actor = _actor(actor_id)
    if actor.role != "staff":
        raise Forbidden("只有工作人员可以重新分配配对")
    try:
        broker = db.session.get(User, int(broker_id))
    except (TypeError, ValueError):
        broker = None
    if broker is None or broker.role != "broker" or not broker.is_active:
        raise ServiceError("请选择一位技术经纪人", field="broker_id")

    def apply(pair, _actor):
        pair.broker_id = broker.id
        pair.claimed_by_id = broker.id

    name = broker.display_name or broker.login
    return _work(pair_id, actor_id, "reassign", note=note or f"分配给{name}", apply=apply)


def propose(actor_id: int, need_id: int | str, achievement_id: int | str, note: str = ""):
    """A broker adds a pair the matcher did not suggest."""
    actor = _actor(actor_id)
    if actor.role not in BROKER_ROLES:
        raise Forbidden("只有技术经纪人或工作人员可以提出配对")
    errors = {}
    need = _published(Need, need_id)
    achievement = _published(Achievement, achievement_id)
    if need is None:
        errors["need_id"] = "请填写已发布的需求编号"
    if achievement is None:
        errors["achievement_id"] = "请填写已发布的成果编号"
    if errors:
        raise ServiceError("请检查需求和成果编号", errors=errors)
    existing = db.session.scalar(
        select(Suggestion).where(
            Suggestion.need_id == need.id, Suggestion.achievement_id == achievement.id
        )
    )
    if existing is not None:
        raise Conflict(f"该配对已存在（编号 {existing.id}）")
    if actor.role == "broker" and not (
        {f.id for f in actor.fields}
        & ({f.id for f in need.fields} | {f.id for f in achievement.fields})
    ):
        raise Forbidden("需求和成果都不在您负责的领域内")
    pair = Suggestion(
        need=need,
        achievement=achievement,
        source="broker",
        score=0.0,
        terms=[],
        same_field=bool({f.id for f in need.fields} & {f.id for f in achievement.fields}),
        state="suggested",
        broker_id=actor.id if actor.role == "broker" else None,
        claimed_by_id=actor.id if actor.role == "broker" else None,
    )
    db.session.add(pair)
    _record(pair, actor, "propose", "suggested", note=note.strip())
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("该配对已存在") from None
    _after_commit(pair.id, None, "suggested", actor.id)
    return pair


def _published(model, listing_id):
    try:
        row = db.session.get(model, int(listing_id))
    except (TypeError, ValueError):
        return None
    return row if row is not None and row.status == "published" else None


BULK_ACTIONS = ("recommended", "dismissed", "claim", "snooze")


def bulk(pair_ids, actor_id: int, action: str, reason: str = "", note: str = "", days=7) -> dict:
    """Apply one action to a selection; each pair succeeds or fails on its own."""
    if action not in BULK_ACTIONS:
        raise ServiceError("请选择批量操作", field="action")
    ids = sorted({int(i) for i in pair_ids if str(i).isdigit()})
    if not ids:
        raise ServiceError("请至少选择一个配对", field="ids")
    done, failed = [], {}
    for pair_id in ids:
        try:
            if action == "claim":
                claim(pair_id, actor_id)
            elif action == "snooze":
                snooze(pair_id, actor_id, days, note)
            else:
                transition(pair_id, actor_id, action, note=note, reason=reason)
        except ServiceError as e:
            db.session.rollback()
            if e.status == 400:
                raise
            failed[pair_id] = e.message
        else:
            done.append(pair_id)
    return {"done": done, "failed": failed}


# --- plain data ----------------------------------------------------------------------------------


def _org(org, revealed: bool) -> dict | None:
    if org is None:
        return None
    data = {"id": org.id, "name": org.name, "kind": org.kind, "region": org.region}
    if revealed:
        data.update(
            contact_name=org.contact_name,
            contact_phone=org.contact_phone,
            contact_email=org.contact_email,
        )
    return data


def _money(value) -> float | None:
    return float(value) if value is not None else None


def listing_dict(row, revealed: bool) -> dict:
    data = {
        "id": row.id,
        "title": row.title,
        "description": row.description,
        "keywords": list(row.keywords or []),
        "fields": [f.name for f in row.fields],
        "organization": _org(row.organization, revealed),
    }
    if revealed:
        data.update(contact_name=row.contact_name, contact_phone=row.contact_phone)
    if isinstance(row, Need):
        data.update(
            is_bottleneck=row.is_bottleneck,
            budget_min=_money(row.budget_min),
            budget_max=_money(row.budget_max),
        )
    else:
        data.update(
            maturity=row.maturity,
            trl=row.trl,
            price_min=_money(row.price_min),
            price_max=_money(row.price_max),
        )
    return data


def history(pair: Suggestion) -> list[dict]:
    return [
        {
            "from": e.from_state,
            "to": e.to_state,
            "kind": e.kind,
            "by": (e.actor.display_name or e.actor.login) if e.actor else None,
            "by_id": e.actor_id,
            "at": e.at.isoformat(timespec="seconds") + "Z",
            "side": e.side,
            "reason": e.reason,
            "note": e.note,
        }
        for e in pair.events
    ]


def pair_dict(pair: Suggestion, viewer: User, with_history: bool = True) -> dict:
    """The pair as the viewer may see it."""
    revealed = contacts_revealed(viewer, pair)
    contract = db.session.scalar(select(Contract).where(Contract.suggestion_id == pair.id))
    data = {
        "id": pair.id,
        "state": pair.state,
        "state_label": state_label(pair.state),
        "score": round(pair.score, 4),
        "terms": [[t, s] for t, s in (pair.terms or [])],
        "need_rank": pair.need_rank,
        "achievement_rank": pair.achievement_rank,
        "same_field": pair.same_field,
        "source": pair.source,
        "need_answer": pair.need_answer,
        "achievement_answer": pair.achievement_answer,
        "reason": pair.reason,
        "broker_id": pair.broker_id,
        "claimed_by_id": pair.claimed_by_id,
        "snoozed_until": pair.snoozed_until.isoformat() if pair.snoozed_until else None,
        "version": pair.lock_version,
        "need": listing_dict(pair.need, revealed or "need" in sides_of(viewer, pair)),
        "achievement": listing_dict(
            pair.achievement, revealed or "achievement" in sides_of(viewer, pair)
        ),
        "contract": {
            "type": contract.contract_type,
            "amount": float(contract.amount),
            "signed_on": contract.signed_on.isoformat(),
        }
        if contract
        else None,
    }
    if with_history:
        data["history"] = history(pair)
    return data


def visible_clause(user: User):
    """SQL condition for the pairs a user may see (Suggestion joined to nothing)."""
    if user.role == "staff":
        return Suggestion.id.isnot(None)
    if user.role == "broker":
        field_ids = [f.id for f in user.fields]
        return or_(
            Suggestion.broker_id == user.id,
            Suggestion.claimed_by_id == user.id,
            Suggestion.need_id.in_(
                select(need_fields.c.need_id).where(need_fields.c.field_id.in_(field_ids))
            ),
            Suggestion.achievement_id.in_(
                select(achievement_fields.c.achievement_id).where(
                    achievement_fields.c.field_id.in_(field_ids)
                )
            ),
        )
    org_id = user.organization_id or -1
    recommended_once = or_(
        Suggestion.state.notin_(("suggested", "dismissed", "closed")),
        exists().where(
            PairEvent.suggestion_id == Suggestion.id, PairEvent.to_state == "recommended"
        ),
    )
    own = or_(
        Suggestion.need_id.in_(select(Need.id).where(Need.organization_id == org_id)),
        Suggestion.achievement_id.in_(
            select(Achievement.id).where(Achievement.organization_id == org_id)
        ),
    )
    return own & recommended_once


def fit_summary(pair: Suggestion) -> list[dict]:
    """How well the pair fits beyond the text: field, maturity, budget against price."""
    need, achievement = pair.need, pair.achievement
    shared = {f.name for f in need.fields} & {f.name for f in achievement.fields}
    rows = [
        {
            "label": "技术领域",
            "ok": bool(shared),
            "text": "同属" + "、".join(sorted(shared)) if shared else "领域不同",
        }
    ]
    if achievement.maturity or achievement.trl:
        trl = achievement.trl
        text = f"成果处于{achievement.maturity or '—'}阶段" + (f"（TRL {trl}）" if trl else "")
        rows.append({"label": "成熟度", "ok": (trl or 0) >= 6, "text": text})
    else:
        rows.append({"label": "成熟度", "ok": None, "text": "成果未填写成熟度"})
    rows.append(_budget_fit(need, achievement))
    return rows


def _budget_fit(need: Need, achievement: Achievement) -> dict:
    budget_hi = need.budget_max if need.budget_max is not None else need.budget_min
    price_lo = achievement.price_min if achievement.price_min is not None else achievement.price_max
    if budget_hi is None or price_lo is None:
        return {"label": "预算与报价", "ok": None, "text": "预算或报价未填写"}
    budget = _range_text(need.budget_min, need.budget_max)
    price = _range_text(achievement.price_min, achievement.price_max)
    ok = budget_hi >= price_lo
    verdict = "预算覆盖报价" if ok else "预算低于报价"
    return {
        "label": "预算与报价",
        "ok": ok,
        "text": f"需求预算{budget}，成果报价{price}：{verdict}",
    }


def _range_text(low, high) -> str:
    if low is not None and high is not None and low != high:
        return f"{low:g}–{high:g}万元"
    value = low if low is not None else high
    return f"{value:g}万元"
