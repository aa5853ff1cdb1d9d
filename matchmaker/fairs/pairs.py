"""How a fair's meetings move their pairs, through the workbench's state machine.

A fair schedules pairs whatever their stage, but the pair's own life (`services.pairs`) only lets
a pair both sides accepted become `meeting_scheduled`. So: at publish, accepted pairs move to
meeting_scheduled; others keep their state and the fair's Meeting row is the record. After the
fair, an intention or contract walks the pair forward, recording on the way that both sides —
who met and want to go on — are interested. Every move is `pairs.transition` (it checks the
actor, writes the event and commits).
"""

from sqlalchemy import select

from matchmaker.accounts.models import User
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.extensions import db
from matchmaker.pairs import transitions as pairs
from matchmaker.pairs.models import Meeting, Suggestion
from matchmaker.pairs.states import PairState, reached


def _drop_workbench_meeting(pair_id: int, keep_id: int | None) -> None:
    # transition(..., "meeting_scheduled") adds its own Meeting row; the fair's row is the record.
    for row in db.session.scalars(
        select(Meeting).where(Meeting.suggestion_id == pair_id, Meeting.fair_id.is_(None))
    ):
        if row.id != keep_id:
            db.session.delete(row)
    db.session.commit()


def _meeting_values(meeting: Meeting) -> dict:
    return {
        "place": meeting.place,
        "starts_at": f"{meeting.starts_at:%Y-%m-%d %H:%M}" if meeting.starts_at else "",
        "online_url": meeting.online_url,
        # A fair's meeting is recorded as it was planned, also when walked forward afterwards.
        "past_allowed": True,
    }


def schedule(meeting_id: int, actor_id: int | None, note: str = "") -> bool:
    """Move an accepted pair to meeting_scheduled for its fair meeting; False when it stays."""
    meeting = db.session.get(Meeting, meeting_id)
    if actor_id is None or meeting is None or meeting.suggestion.state != PairState.ACCEPTED:
        return False
    pairs.transition(
        meeting.suggestion_id,
        actor_id,
        PairState.MEETING_SCHEDULED,
        note=note,
        meeting=_meeting_values(meeting),
    )
    _drop_workbench_meeting(meeting.suggestion_id, None)
    return True


def follow_up(
    meeting_id: int, actor_id: int, target: str, note: str = "", contract: dict | None = None
) -> str:
    """Walk the meeting's pair to `target` (met, intention or contract); return its new state.

    A pair not yet accepted is only walked when the outcome is an intention or a contract: then
    the broker recommends it (if needed) and records both sides as interested, as they told him.
    A meeting held without either leaves such a pair where it is.
    """
    meeting = db.session.get(Meeting, meeting_id)
    pair = db.session.get(Suggestion, meeting.suggestion_id)
    actor = db.session.get(User, actor_id)
    if pair.state in (PairState.SUGGESTED, PairState.RECOMMENDED) and target == PairState.MET:
        return pair.state
    if pair.state == PairState.SUGGESTED:
        pairs.transition(pair.id, actor_id, PairState.RECOMMENDED, note=note or "对接会洽谈")
    if pair.state == PairState.RECOMMENDED:
        for side in ("need", "achievement"):
            if getattr(pair, f"{side}_answer") is None:
                pairs.transition(
                    pair.id, actor_id, PairState.ACCEPTED, side=side, note="对接会洽谈后表示有意向"
                )
    if pair.state == PairState.ACCEPTED:
        pairs.transition(
            pair.id,
            actor_id,
            PairState.MEETING_SCHEDULED,
            note=meeting.fair.name,
            meeting=_meeting_values(meeting),
        )
        _drop_workbench_meeting(pair.id, None)
    if pair.state not in reached(PairState.MEETING_SCHEDULED):
        raise ServiceError(
            f"该配对当前状态不能登记洽谈结果（{pairs.state_label(pair.state)}）", field="outcome"
        )
    path = reached(PairState.MEETING_SCHEDULED)
    for step in path[path.index(pair.state) + 1 : path.index(target) + 1]:
        pairs.transition(
            pair.id,
            actor.id,
            step,
            note=note,
            contract=contract if step == PairState.CONTRACT else None,
        )
    return pair.state
