"""Work on a pair besides moving it: claim, snooze, notes, reassignment, proposals, bulk actions.

Each keeps the pair's history complete with a PairEvent of its own kind.
"""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from matchmaker.accounts.models import User
from matchmaker.core.db import utcnow
from matchmaker.core.exceptions import Conflict, Forbidden, ServiceError
from matchmaker.core.extensions import db
from matchmaker.core.paging import positive_int
from matchmaker.listings.models import Achievement, Need
from matchmaker.pairs.access import BROKER_ROLES, check_broker
from matchmaker.pairs.models import Suggestion
from matchmaker.pairs.states import PairState
from matchmaker.pairs.transitions import (
    FINAL_STATES,
    active_user,
    after_commit,
    check_note,
    commit_pair,
    lock_pair,
    record_event,
    state_label,
    transition,
)


def _work(pair_id: int, actor_id: int, kind: str, note: str = "", reason: str = "", apply=None):
    actor = active_user(actor_id)
    check_note(note)
    pair = lock_pair(pair_id)
    try:
        check_broker(actor, pair)
        if apply is not None:
            apply(pair, actor)
        event = record_event(pair, actor, kind, pair.state, reason=reason, note=note)
        from matchmaker.pairs import notices

        notices.on_pair_event(pair, event, actor)
    except ServiceError:
        db.session.rollback()
        raise
    commit_pair(pair)
    after_commit(pair.id, pair.state, pair.state, actor.id)
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
    actor = active_user(actor_id)
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
    actor = active_user(actor_id)
    if actor.role not in BROKER_ROLES:
        raise Forbidden("只有技术经纪人或工作人员可以提出配对")
    check_note(note.strip())
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
        state=PairState.SUGGESTED,
        broker_id=actor.id if actor.role == "broker" else None,
        claimed_by_id=actor.id if actor.role == "broker" else None,
    )
    db.session.add(pair)
    record_event(pair, actor, "propose", PairState.SUGGESTED, note=note.strip())
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("该配对已存在") from None
    after_commit(pair.id, None, PairState.SUGGESTED, actor.id)
    return pair


def _published(model, listing_id):
    try:
        row = db.session.get(model, int(listing_id))
    except (TypeError, ValueError):
        return None
    return row if row is not None and row.status == "published" else None


BULK_ACTIONS = (PairState.RECOMMENDED, PairState.DISMISSED, "claim", "snooze")


def bulk(pair_ids, actor_id: int, action: str, reason: str = "", note: str = "", days=7) -> dict:
    """Apply one action to a selection; each pair succeeds or fails on its own."""
    if action not in BULK_ACTIONS:
        raise ServiceError("请选择批量操作", field="action")
    ids = sorted({i for i in map(positive_int, pair_ids) if i is not None})
    if not ids:
        raise ServiceError("请至少选择一个配对", field="ids")
    check_note(note)
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
