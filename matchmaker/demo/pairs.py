"""Demo pairs with a history, and two fairs, so a first run shows a working platform.

Every step goes through the services a broker, a party or staff would use (propose, transition,
register, publish, record_outcome), so events, notifications, meetings and contracts exist as
they would. Afterwards the events are spread over the past months, so charts show a history.
Idempotent: a pair is walked only when this run created it; a fair is made once, by name.
"""

from datetime import date, datetime, timedelta

from sqlalchemy import select

from matchmaker.accounts.models import User
from matchmaker.core.db import utcnow
from matchmaker.core.extensions import db
from matchmaker.fairs import meetings as fair_meetings
from matchmaker.fairs import organize as fairs
from matchmaker.fairs import plan as fair_plan
from matchmaker.fairs.models import Fair
from matchmaker.listings.models import Achievement, Need
from matchmaker.pairs import actions as pair_actions
from matchmaker.pairs import transitions as pairs
from matchmaker.pairs.models import Contract, Meeting, PairEvent, Suggestion
from matchmaker.pairs.states import PATH, PairState

# (need ref, achievement ref, the state to walk to, contract amount in 万元)
WALKS = (
    ("N06", "A06", "contract", 380),
    ("N09", "A09", "contract", 260),
    ("N39", "A41", "contract", 85),
    ("N28", "A29", "contract", 150),
    ("N19", "A19", "contract", 60),
    ("N04", "A04", "intention", None),
    ("N21", "A21", "intention", None),
    ("N34", "A36", "intention", None),
    ("N24", "A25", "intention", None),
    ("N01", "A01", "met", None),
    ("N08", "A08", "met", None),
    ("N07", "A07", "met", None),
    ("N10", "A10", "met", None),
    ("N31", "A32", "meeting_scheduled", None),
    ("N17", "A17", "meeting_scheduled", None),
    ("N40", "A42", "meeting_scheduled", None),
    ("N27", "A27", "accepted", None),
    ("N33", "A35", "accepted", None),
    ("N16", "A16", "accepted", None),
    ("N35", "A37", "accepted", None),
    ("N26", "A28", "accepted", None),
    ("N29", "A30", "closed", None),
    ("N02", "A02", "recommended", None),
    ("N05", "A05", "recommended", None),
    ("N38", "A40", "recommended", None),
    ("N32", "A33", "recommended", None),
    ("N25", "A26", "recommended", None),
    ("N12", "A12", "recommended", None),
    ("N46", "A47", "half_answered", None),
    ("N18", "A18", "declined", None),
    ("N20", "A20", "declined", None),
    ("N13", "A11", "dismissed", None),
    ("N14", "A15", "suggested", None),
    ("N41", "A43", "suggested", None),
)
# Pairs that first met at the past fair, with what came of the meeting.
PAST_FAIR = "2026年秋季智能制造与新材料成果对接会"
PAST_FAIR_PAIRS = (
    ("N36", "A38", "contract", 120),
    ("N03", "A03", "contract", 95),
    ("N37", "A39", "intention", None),
    ("N42", "A44", "intention", None),
    ("N43", "A45", "held", None),
    ("N22", "A22", "no_show", None),
)
NEXT_FAIR = "2027年新春科技成果转化对接会"
# The upcoming fair: registered listings of these pairs (two accepted ones get scheduled).
NEXT_FAIR_PAIRS = (("N27", "A27"), ("N33", "A35"), ("N32", "A33"), ("N25", "A26"), ("N14", "A15"))
RECOMMEND_NOTE = "双方技术方向高度契合，建议尽快安排技术交流。"


def _by_ref(model, ref: str):
    return db.session.scalar(select(model).where(model.external_ref == f"demo:{ref}"))


def _member(org_id: int) -> User | None:
    return db.session.scalar(
        select(User)
        .where(User.organization_id == org_id, User.role.in_(("institute", "enterprise")))
        .order_by(User.id)
    )


def _actor(pair: Suggestion, broker: User, staff: User) -> User:
    fields = {f.id for f in broker.fields}
    covered = fields & ({f.id for f in pair.need.fields} | {f.id for f in pair.achievement.fields})
    return broker if covered else staff


def _new_pair(need_ref: str, ach_ref: str, staff: User, score: float = 0.5) -> Suggestion | None:
    """The pair, proposed now; None when it already exists (an earlier seed or a match run)."""
    need, achievement = _by_ref(Need, need_ref), _by_ref(Achievement, ach_ref)
    if need is None or achievement is None:
        return None
    found = db.session.scalar(
        select(Suggestion).where(
            Suggestion.need_id == need.id, Suggestion.achievement_id == achievement.id
        )
    )
    if found is not None:
        return None
    pair = pair_actions.propose(staff.id, need.id, achievement.id, note="演示数据")
    # A proposed pair has no score; the fair planner ranks meetings by it.
    pair.score = score
    db.session.commit()
    return pair


def _contract(amount, signed_on: date) -> dict:
    return {"type": "技术开发", "amount": str(amount), "signed_on": signed_on.isoformat()}


def _walk(pair: Suggestion, target: str, amount, broker: User, staff: User, today: date) -> None:
    actor = _actor(pair, broker, staff)
    if target == PairState.SUGGESTED:
        return
    if target == PairState.DISMISSED:
        pairs.transition(
            pair.id, actor.id, PairState.DISMISSED, reason="off_topic", note="方向不一致"
        )
        return
    pairs.transition(pair.id, actor.id, PairState.RECOMMENDED, note=RECOMMEND_NOTE)
    if target == PairState.RECOMMENDED:
        return
    need_user, ach_user = (
        _member(pair.need.organization_id),
        _member(pair.achievement.organization_id),
    )
    if target == PairState.DECLINED:
        pairs.transition(pair.id, need_user.id, PairState.DECLINED, side="need", reason="no_plan")
        return
    pairs.transition(
        pair.id, need_user.id, PairState.ACCEPTED, side="need", note="有兴趣进一步了解"
    )
    if target == "half_answered":
        return
    pairs.transition(pair.id, ach_user.id, PairState.ACCEPTED, side="achievement")
    if target == PairState.CLOSED:
        pairs.transition(pair.id, actor.id, PairState.CLOSED, reason="negotiation_failed")
        return
    steps = PATH[PATH.index(PairState.ACCEPTED) + 1 : PATH.index(target) + 1]
    for step in steps:
        meeting = None
        if step == PairState.MEETING_SCHEDULED:
            when = today + timedelta(days=10)
            meeting = {
                "starts_at": f"{when.isoformat()} 14:00",
                "place": "沈阳市科技成果转化服务中心",
            }
        contract = (
            _contract(amount, today - timedelta(days=3)) if step == PairState.CONTRACT else None
        )
        pairs.transition(pair.id, actor.id, step, meeting=meeting, contract=contract)


def _spread(pair_id: int, start: datetime, step_days: int, now: datetime) -> None:
    """Move a walked pair's events into the past, one step every `step_days` days."""
    events = db.session.scalars(
        select(PairEvent).where(PairEvent.suggestion_id == pair_id).order_by(PairEvent.id)
    ).all()
    at = start
    for event in events:
        event.at = min(at, now - timedelta(hours=1))
        at += timedelta(days=step_days)
    pair = db.session.get(Suggestion, pair_id)
    if events:
        pair.created_at = events[0].at
        pair.state_changed_at = events[-1].at
    contract = db.session.scalar(select(Contract).where(Contract.suggestion_id == pair_id))
    if contract is not None and events:
        contract.signed_on = events[-1].at.date()


def _past_fair(staff: User, today: date) -> int:
    """The pairs that met at the past fair (held once, recognised by its name)."""
    if db.session.scalar(select(Fair.id).where(Fair.name == PAST_FAIR)) is not None:
        return 0
    held_on = today - timedelta(days=45)
    created = []
    for need_ref, ach_ref, outcome, amount in PAST_FAIR_PAIRS:
        pair = _new_pair(need_ref, ach_ref, staff, score=0.55)
        if pair is not None:
            created.append((pair.id, outcome, amount))
    fair = fairs.create_fair(
        PAST_FAIR, held_on, venue="沈阳国际展览中心", slots=6, tables=4, actor_id=staff.id
    )
    for pair_id, _, _ in created:
        pair = db.session.get(Suggestion, pair_id)
        fairs.register_listing(fair.id, "need", pair.need_id, staff.id)
        fairs.register_listing(fair.id, "achievement", pair.achievement_id, staff.id)
    fair_plan.publish(fair.id, staff.id)
    for pair_id, outcome, amount in created:
        meeting = db.session.scalar(
            select(Meeting).where(Meeting.fair_id == fair.id, Meeting.suggestion_id == pair_id)
        )
        if meeting is None:
            continue
        contract = None
        if outcome == "contract":
            contract = {"contract_type": "技术转让", "amount": amount, "signed_on": held_on}
        fair_meetings.record_outcome(
            meeting.id, staff.id, outcome, note="对接会现场洽谈", contract=contract
        )
    fair_meetings.close_fair(fair.id, staff.id)
    start = datetime.combine(held_on, datetime.min.time()) - timedelta(days=1)
    for pair_id, _, _ in created:
        _spread(pair_id, start, 1, utcnow())
    db.session.commit()
    return len(created)


def _next_fair(staff: User, today: date) -> bool:
    if db.session.scalar(select(Fair.id).where(Fair.name == NEXT_FAIR)) is not None:
        return False
    fair = fairs.create_fair(
        NEXT_FAIR,
        today + timedelta(days=21),
        venue="沈阳市科技成果转化服务中心",
        slots=8,
        tables=4,
        actor_id=staff.id,
    )
    for need_ref, ach_ref in NEXT_FAIR_PAIRS:
        need, achievement = _by_ref(Need, need_ref), _by_ref(Achievement, ach_ref)
        if need is not None and achievement is not None:
            fairs.register_listing(fair.id, "need", need.id, staff.id)
            fairs.register_listing(fair.id, "achievement", achievement.id, staff.id)
    fair_plan.publish(fair.id, staff.id)
    return True


def seed_pairs(today: date | None = None) -> dict:
    """Walk the demo pairs and hold the two demo fairs; add only what is missing."""
    today = today or date.today()
    staff = db.session.scalar(select(User).where(User.login == "staff"))
    broker = db.session.scalar(select(User).where(User.login == "broker"))
    if staff is None or broker is None:
        return {"pairs_added": 0, "fairs_added": 0}
    now = utcnow()
    added = 0
    for index, (need_ref, ach_ref, target, amount) in enumerate(WALKS):
        pair = _new_pair(need_ref, ach_ref, staff, score=round(0.62 - 0.008 * index, 3))
        if pair is None:
            continue
        _walk(pair, target, amount, broker, staff, today)
        # Earlier pairs in the list went further, so they started earlier: 1–5 months back.
        days_back = 150 - 3 * index
        _spread(pair.id, now - timedelta(days=days_back), max(2, days_back // 8), now)
        db.session.commit()
        added += 1
    fair_pairs = _past_fair(staff, today)
    fairs_added = int(fair_pairs > 0) + int(_next_fair(staff, today))
    return {"pairs_added": added + fair_pairs, "fairs_added": fairs_added}
