"""Plan a fair (which pairs meet, when, at which table), publish it, and follow its meetings up."""

import time
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import or_, select

from matchmaker.extensions import db
from matchmaker.matching.assign import Candidate, Quotas, assign, greedy_assign
from matchmaker.matching.timetable import Booking, clashes, timetable
from matchmaker.models import (
    Achievement,
    Contract,
    Fair,
    FairParticipant,
    FairRegistration,
    Meeting,
    MustMeet,
    Need,
    PairEvent,
    Suggestion,
    User,
    utcnow,
)
from matchmaker.models.fairs import CONTRACT_TYPES
from matchmaker.services import Conflict, Forbidden, NotFound, ServiceError
from matchmaker.services.fairs import get_fair, slot_times
from matchmaker.services.signals import pair_moved

CLOSED_PAIR_STATES = ("dismissed", "declined", "closed")
FIXED_MEETINGS = ("confirmed", "held", "no_show")
OUTCOMES = ("held", "no_show", "intention", "contract")
# The pair's path through a fair; outcomes walk it forward one state at a time.
FAIR_PATH = ("meeting_scheduled", "met", "intention", "contract")


def move_pair(pair_id: int, actor_id: int | None, to: str, note: str = "", reason: str = "",
              contract: dict | None = None) -> None:
    """Move a pair to another state (no commit): the one place fairs touch the pair life cycle.

    Until the workbench's `matchmaker.services.pairs.transition` is merged this writes the state,
    the audit event and the contract itself; wiring the workbench in is a change to this function.
    """
    pair = db.session.get(Suggestion, pair_id)
    if pair is None or pair.state == to:
        return
    db.session.add(PairEvent(suggestion_id=pair.id, from_state=pair.state, to_state=to,
                             actor_id=actor_id, reason=reason, note=note))
    moves = db.session.info.setdefault("fair_pair_moves", [])
    moves.append((pair.id, pair.state, to, actor_id))
    pair.state = to
    pair.state_changed_at = utcnow()
    if contract is not None:
        db.session.add(Contract(suggestion_id=pair.id, recorded_by_id=actor_id, **contract))


def _commit() -> None:
    """Commit, then tell other features which pairs moved."""
    moves = db.session.info.pop("fair_pair_moves", [])
    db.session.commit()
    for pair_id, from_state, to_state, actor_id in moves:
        pair_moved.send(pair_id, from_state=from_state, to_state=to_state, actor_id=actor_id)


def _state_before_fair(pair_id: int) -> str:
    """The state a pair had before the fair scheduled it, to return to when the meeting is off."""
    prior = db.session.scalar(
        select(PairEvent.from_state)
        .where(PairEvent.suggestion_id == pair_id, PairEvent.to_state == "meeting_scheduled")
        .order_by(PairEvent.id.desc())
        .limit(1)
    )
    return prior or "suggested"


def _problem(fair: Fair):
    """Candidates, quotas, excluded/fixed ids and party availability from the database."""
    regs = db.session.execute(
        select(FairRegistration.need_id, FairRegistration.achievement_id, FairRegistration.quota)
        .where(FairRegistration.fair_id == fair.id)
    ).all()
    slots = fair.slots_count
    listing_quota = {}
    for need_id, ach_id, quota in regs:
        key = ("need", need_id) if need_id is not None else ("achievement", ach_id)
        listing_quota[key] = min(slots, fair.default_quota if quota is None else quota)
    parts = db.session.execute(
        select(FairParticipant.organization_id, FairParticipant.quota,
               FairParticipant.unavailable_slots).where(FairParticipant.fair_id == fair.id)
    ).all()
    unavailable = {org: set(s or ()) for org, _, s in parts}
    org_quota = {org: q for org, q, _ in parts if q is not None}
    must = set(db.session.scalars(select(MustMeet.suggestion_id).where(MustMeet.fair_id == fair.id)))
    reg_needs = select(FairRegistration.need_id).where(FairRegistration.fair_id == fair.id)
    reg_achs = select(FairRegistration.achievement_id).where(FairRegistration.fair_id == fair.id)
    rows = db.session.execute(
        select(Suggestion.id, Suggestion.need_id, Suggestion.achievement_id, Suggestion.score,
               Suggestion.state, Suggestion.need_answer, Suggestion.achievement_answer,
               Need.organization_id, Achievement.organization_id)
        .join(Need, Need.id == Suggestion.need_id)
        .join(Achievement, Achievement.id == Suggestion.achievement_id)
        .where(Suggestion.need_id.in_(reg_needs), Suggestion.achievement_id.in_(reg_achs),
               or_(Suggestion.active.is_(True), Suggestion.state != "suggested"))
    ).all()
    candidates, excluded = [], set()
    called_off = set(db.session.scalars(select(Meeting.suggestion_id).where(
        Meeting.fair_id == fair.id, Meeting.status == "cancelled")))
    for pid, nid, aid, score, state, n_ans, a_ans, norg, aorg in rows:
        if state in CLOSED_PAIR_STATES or "declined" in (n_ans, a_ans) or pid in called_off:
            excluded.add(pid)
        candidates.append(Candidate(pid, nid, aid, norg, aorg, float(score), pid in must))
    orgs = {c.need_org for c in candidates} | {c.achievement_org for c in candidates}
    for org in orgs:  # one representative: never more meetings than slots they can attend
        cap = slots - len(unavailable.get(org, ()))
        wanted = org_quota.get(org, fair.org_quota)
        org_quota[org] = cap if wanted is None else min(wanted, cap)
    fixed = {
        m.suggestion_id: m for m in db.session.scalars(
            select(Meeting).where(Meeting.fair_id == fair.id, Meeting.status.in_(FIXED_MEETINGS))
        )
    }
    quotas = Quotas(default_listing=min(slots, fair.default_quota), listing=listing_quota,
                    default_org=None, org=org_quota, total=slots * fair.tables_count)
    return candidates, quotas, excluded, fixed, unavailable, must


def compute_plan(fair_id: int) -> dict:
    """Assign and timetable a fair without saving anything (the dry run behind preview and CLI)."""
    fair = get_fair(fair_id)
    start = time.perf_counter()
    candidates, quotas, excluded, fixed, unavailable, must = _problem(fair)
    best = assign(candidates, quotas, excluded=excluded, fixed=fixed)
    greedy = greedy_assign(candidates, quotas, excluded=excluded, fixed=fixed)
    by_id = {c.pair_id: c for c in candidates}
    chosen = [by_id[i] for i in best.pair_ids]
    plan = timetable(
        [Booking(c.pair_id, c.need_org, c.achievement_org,
                 fixed[c.pair_id].slot if c.pair_id in fixed else None,
                 fixed[c.pair_id].table_no if c.pair_id in fixed else None) for c in chosen],
        fair.slots_count, fair.tables_count, unavailable,
    )
    parties = {c.pair_id: [("need", c.need_id), ("achievement", c.achievement_id),
                           ("org", c.need_org), ("org", c.achievement_org)] for c in chosen}
    degree: dict = {}
    for p in parties.values():
        for party in p:
            degree[party] = degree.get(party, 0) + 1
    placed = [by_id[k] for k in plan.placement]
    return {
        "meetings": len(plan.placement),
        "objective": round(sum(c.score for c in placed), 4),
        "greedy_objective": round(greedy.objective, 4),
        "slots_used": plan.slots_used,
        "max_degree": max(degree.values(), default=0),
        "double_booked": clashes(plan.placement, parties),
        "seconds": round(time.perf_counter() - start, 3),
        "lower_bound": plan.lower_bound,
        "unplaced": len(plan.unplaced),
        "candidates": len(candidates),
        "excluded": len(excluded),
        "must_meet": len(must),
        "must_meet_missed": len(best.must_meet_missed),
        "optimal": best.optimal,
        "slots": fair.slots_count,
        "tables": fair.tables_count,
        "placement": sorted((k, s, t) for k, (s, t) in plan.placement.items()),
    }


def _staff(actor_id: int | None, *roles: str) -> User | None:
    """Check the actor's role; None is a trusted caller (the CLI)."""
    if actor_id is None:
        return None
    user = db.session.get(User, actor_id)
    if user is None or user.role not in (roles or ("staff",)):
        raise Forbidden("当前角色无权执行此操作")
    return user


def publish(fair_id: int, actor_id: int | None) -> dict:
    """Save the plan as meetings (re-running keeps confirmed meetings) and schedule the pairs."""
    fair = get_fair(fair_id)
    _staff(actor_id)
    if fair.status == "closed":
        raise Conflict("对接会已结束，不能重新排期")
    plan = compute_plan(fair.id)
    slots = slot_times(fair)
    wanted = {k: (s, t) for k, s, t in plan["placement"]}
    meetings = {m.suggestion_id: m for m in db.session.scalars(
        select(Meeting).where(Meeting.fair_id == fair.id))}
    for pair_id, meeting in meetings.items():
        if meeting.status == "planned" and pair_id not in wanted:
            db.session.delete(meeting)  # "cancelled" stays for meetings staff called off
            move_pair(pair_id, actor_id, _state_before_fair(pair_id), reason="fair_replanned")
    for pair_id, (slot, table) in wanted.items():
        meeting = meetings.get(pair_id)
        if meeting is None:
            meeting = Meeting(fair_id=fair.id, suggestion_id=pair_id)
            db.session.add(meeting)
        elif meeting.status in FIXED_MEETINGS:
            continue
        meeting.status, meeting.slot, meeting.table_no = "planned", slot, table
        meeting.starts_at = slots[slot].starts
        meeting.place = f"{fair.venue} 第{table + 1}桌".strip()
        move_pair(pair_id, actor_id, "meeting_scheduled", reason="fair", note=fair.name)
    fair.status = "published"
    fair.published_at = utcnow()
    fair.plan_summary = {k: v for k, v in plan.items() if k != "placement"}
    _commit()
    return fair.plan_summary


def _meeting(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound("洽谈不存在")
    return meeting


def move_meeting(meeting_id: int, slot: int, table: int, actor_id: int) -> Meeting:
    """Put a meeting in another slot/table (staff); it then counts as confirmed."""
    _staff(actor_id)
    meeting = _meeting(meeting_id)
    fair = meeting.fair
    if meeting.status not in ("planned", "confirmed"):
        raise Conflict("只能调整未举行的洽谈")
    if not 0 <= slot < fair.slots_count:
        raise ServiceError(f"时段应为 1–{fair.slots_count}", field="slot")
    if not 0 <= table < fair.tables_count:
        raise ServiceError(f"桌号应为 1–{fair.tables_count}", field="table")
    pair = meeting.suggestion
    orgs = {pair.need.organization_id, pair.achievement.organization_id}
    for part in db.session.scalars(select(FairParticipant).where(
            FairParticipant.fair_id == fair.id, FairParticipant.organization_id.in_(orgs))):
        if slot in (part.unavailable_slots or []):
            raise ServiceError("有一方在该时段不能到场", field="slot")
    others = db.session.scalars(select(Meeting).where(
        Meeting.fair_id == fair.id, Meeting.slot == slot, Meeting.id != meeting.id,
        Meeting.status != "cancelled"))
    for other in others:
        if other.table_no == table:
            raise ServiceError("该时段这张桌已有洽谈", field="table")
        o = other.suggestion
        if {o.need.organization_id, o.achievement.organization_id} & orgs:
            raise ServiceError("有一方在该时段已有其他洽谈", field="slot")
    meeting.slot, meeting.table_no, meeting.status = slot, table, "confirmed"
    meeting.starts_at = slot_times(fair)[slot].starts
    meeting.place = f"{fair.venue} 第{table + 1}桌".strip()
    _commit()
    return meeting


def confirm_meeting(meeting_id: int, actor_id: int) -> Meeting:
    """Confirm a planned meeting (staff or either side); a re-plan then keeps it."""
    meeting = _meeting(meeting_id)
    user = db.session.get(User, actor_id)
    pair = meeting.suggestion
    sides = {pair.need.organization_id, pair.achievement.organization_id}
    if user is None or (user.role != "staff" and user.organization_id not in sides):
        raise Forbidden("只能确认本单位的洽谈")
    if meeting.status != "planned":
        raise Conflict("该洽谈无需确认")
    meeting.status = "confirmed"
    _commit()
    return meeting


def cancel_meeting(meeting_id: int, actor_id: int, note: str = "") -> Meeting:
    """Cancel a meeting (staff); the pair returns to where it was before the fair."""
    _staff(actor_id)
    meeting = _meeting(meeting_id)
    if meeting.status not in ("planned", "confirmed"):
        raise Conflict("只能取消未举行的洽谈")
    meeting.status, meeting.note = "cancelled", note.strip()
    if meeting.suggestion.state == "meeting_scheduled":
        pair_id = meeting.suggestion_id
        move_pair(pair_id, actor_id, _state_before_fair(pair_id), reason="meeting_cancelled", note=note)
    _commit()
    return meeting


def _contract_values(values: dict) -> dict:
    errors = {}
    kind = (values.get("contract_type") or "").strip()
    if kind not in CONTRACT_TYPES:
        errors["contract_type"] = "请选择合同类型"
    try:
        amount = Decimal(str(values.get("amount", "")).strip())
        if amount < 0 or amount >= Decimal("1e12"):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["amount"] = "合同金额（万元）应为不小于0的数字"
        amount = None
    signed = values.get("signed_on") or date.today()
    if isinstance(signed, str):
        try:
            signed = date.fromisoformat(signed.strip())
        except ValueError:
            errors["signed_on"] = "签约日期格式应为 YYYY-MM-DD"
    if errors:
        raise ServiceError(next(iter(errors.values())), errors=errors)
    return {"contract_type": kind, "amount": amount, "signed_on": signed}


def record_outcome(meeting_id: int, actor_id: int, outcome: str, note: str = "",
                   contract: dict | None = None) -> Meeting:
    """Record what came of a meeting (brokers, staff): held, no-show, intention or contract."""
    _staff(actor_id, "staff", "broker")
    meeting = _meeting(meeting_id)
    if outcome not in OUTCOMES:
        raise ServiceError("请选择洽谈结果", field="outcome")
    if meeting.status == "cancelled":
        raise Conflict("该洽谈已取消")
    pair = meeting.suggestion
    terms = _contract_values(contract or {}) if outcome == "contract" else None
    if outcome == "contract" and db.session.scalar(
            select(Contract.id).where(Contract.suggestion_id == pair.id)):
        raise Conflict("该配对已登记合同")
    meeting.outcome_by_id, meeting.outcome_at = actor_id, utcnow()
    if note.strip():
        meeting.note = note.strip()
    if outcome == "no_show":
        if meeting.status == "held":
            raise Conflict("该洽谈已登记为已举行")
        meeting.status = "no_show"
        if pair.state == "meeting_scheduled":
            move_pair(pair.id, actor_id, _state_before_fair(pair.id), reason="no_show", note=note)
        _commit()
        return meeting
    meeting.status = "held"
    target = {"held": "met"}.get(outcome, outcome)
    here = FAIR_PATH.index(pair.state) if pair.state in FAIR_PATH else -1
    if here < 0:
        move_pair(pair.id, actor_id, "meeting_scheduled", reason="fair")
        here = 0
    for step in FAIR_PATH[here + 1 : FAIR_PATH.index(target) + 1]:
        move_pair(pair.id, actor_id, step, reason="fair_outcome", note=note,
                  contract=terms if step == "contract" else None)
    _commit()
    return meeting


def close_fair(fair_id: int, actor_id: int) -> Fair:
    """Mark a fair as over (staff); outcomes may still be recorded."""
    _staff(actor_id)
    fair = get_fair(fair_id)
    if fair.status != "published":
        raise Conflict("只有已发布日程的对接会可以结束")
    fair.status = "closed"
    _commit()
    return fair
