"""What a fair's plan is computed from: the candidate pairs, quotas, exclusions, fixed meetings
and who is away when, read from the database in one go (PlanInput)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from matchmaker.core.extensions import db
from matchmaker.fairs.models import Fair, FairParticipant, FairRegistration, MustMeet
from matchmaker.listings.models import Achievement, Need
from matchmaker.pairs.models import Meeting, Suggestion
from matchmaker.pairs.states import ENDED_STATES, ENGAGED_STATES, PairState

if TYPE_CHECKING:
    from matchmaker.matching.assign import Candidate, Quotas

CLOSED_PAIR_STATES = ENDED_STATES
FIXED_MEETINGS = ("confirmed", "held", "no_show")
# The default minimum score: the fair's own bottom quartile of candidate scores, never below
# FLOOR. Under 0.1 a TF-IDF cosine means one or two shared common words (铸件清理打磨 ↔
# 脊柱手术机器人 scored 0.06); the quartile adapts to fairs whose candidates all score higher,
# so the weakest quarter of what the matcher found is not given a table. Staff may set their own.
FLOOR = 0.10
QUANTILE = 0.25
# Pairs both sides said yes to meet whatever their score.
WANTED_STATES = ENGAGED_STATES


@dataclass
class PlanInput:
    """One fair's assignment problem, as the engine's assign and timetable take it."""

    candidates: list[Candidate]
    quotas: Quotas
    excluded: set[int]
    # pair id -> the meeting a re-plan keeps where it is
    fixed: dict[int, Meeting]
    # organization id -> slots its representative cannot attend
    unavailable: dict[int, set[int]]
    must: set[int]
    min_score: float
    min_score_source: str  # "staff" or "auto"


def min_score(fair: Fair, scores: list[float]) -> tuple[float, str]:
    """The minimum meeting score and where it comes from ("staff" or "auto")."""
    if fair.min_score is not None:
        return float(fair.min_score), "staff"
    if not scores:
        return FLOOR, "auto"
    ordered = sorted(scores)
    quartile = ordered[int(QUANTILE * (len(ordered) - 1))]
    return round(max(FLOOR, quartile), 2), "auto"


def default_org_quota(fair: Fair) -> int:
    """Meetings an organization may have unless staff set its own quota: the fair's setting, or
    half the slots (at least one listing's quota) — one representative cannot sit at a table in
    every slot, and a big organization must not take the tables of everyone else."""
    if fair.org_quota is not None:
        return fair.org_quota
    return max(fair.default_quota, -(-fair.slots_count // 2))


def load(fair: Fair) -> PlanInput:
    """Read the fair's plan input from the database."""
    # Here, not at the top: assign imports scipy.optimize (~1 s), which no web page needs.
    from matchmaker.matching.assign import Candidate, Quotas

    unavailable, org_quota = _participants(fair)
    must = set(
        db.session.scalars(select(MustMeet.suggestion_id).where(MustMeet.fair_id == fair.id))
    )
    rows = _pair_rows(fair)
    candidates = [
        Candidate(
            r.id, r.need_id, r.achievement_id, r.need_org, r.ach_org, float(r.score), r.id in must
        )
        for r in rows
    ]
    excluded = _closed(fair, rows)
    floor, source = min_score(fair, [c.score for c in candidates if c.pair_id not in excluded])
    # Below the floor only pairs someone asked for meet: a must-meet, or both sides interested.
    excluded |= {
        c.pair_id
        for c, row in zip(candidates, rows, strict=True)
        if c.score < floor and not c.must_meet and row.state not in WANTED_STATES
    }
    slots = fair.slots_count
    default_org = default_org_quota(fair)
    for org in {c.need_org for c in candidates} | {c.achievement_org for c in candidates}:
        # One representative: never more meetings than slots they can attend.
        cap = slots - len(unavailable.get(org, ()))
        wanted = org_quota.get(org, default_org)
        org_quota[org] = cap if wanted is None else min(wanted, cap)
    quotas = Quotas(
        default_listing=min(slots, fair.default_quota),
        listing=_listing_quotas(fair),
        default_org=None,
        org=org_quota,
        total=slots * fair.tables_count,
    )
    return PlanInput(candidates, quotas, excluded, _fixed(fair), unavailable, must, floor, source)


def _listing_quotas(fair: Fair) -> dict:
    regs = db.session.execute(
        select(
            FairRegistration.need_id, FairRegistration.achievement_id, FairRegistration.quota
        ).where(FairRegistration.fair_id == fair.id)
    ).all()
    quotas = {}
    for need_id, ach_id, quota in regs:
        key = ("need", need_id) if need_id is not None else ("achievement", ach_id)
        quotas[key] = min(fair.slots_count, fair.default_quota if quota is None else quota)
    return quotas


def _participants(fair: Fair) -> tuple[dict, dict]:
    """Each organization's unavailable slots and the meeting quota staff set for it."""
    parts = db.session.execute(
        select(
            FairParticipant.organization_id,
            FairParticipant.quota,
            FairParticipant.unavailable_slots,
        ).where(FairParticipant.fair_id == fair.id)
    ).all()
    unavailable = {org: set(s or ()) for org, _, s in parts}
    return unavailable, {org: q for org, q, _ in parts if q is not None}


def _pair_rows(fair: Fair) -> list:
    """The pairs between a need and an achievement both registered at the fair."""
    reg_needs = select(FairRegistration.need_id).where(FairRegistration.fair_id == fair.id)
    reg_achs = select(FairRegistration.achievement_id).where(FairRegistration.fair_id == fair.id)
    return db.session.execute(
        select(
            Suggestion.id,
            Suggestion.need_id,
            Suggestion.achievement_id,
            Suggestion.score,
            Suggestion.state,
            Suggestion.need_answer,
            Suggestion.achievement_answer,
            Need.organization_id.label("need_org"),
            Achievement.organization_id.label("ach_org"),
        )
        .join(Need, Need.id == Suggestion.need_id)
        .join(Achievement, Achievement.id == Suggestion.achievement_id)
        .where(
            Suggestion.need_id.in_(reg_needs),
            Suggestion.achievement_id.in_(reg_achs),
            or_(Suggestion.active.is_(True), Suggestion.state != PairState.SUGGESTED),
        )
    ).all()


def _closed(fair: Fair, rows) -> set[int]:
    """Pairs that ended, that a side declined, or whose meeting at this fair was called off."""
    called_off = set(
        db.session.scalars(
            select(Meeting.suggestion_id).where(
                Meeting.fair_id == fair.id, Meeting.status == "cancelled"
            )
        )
    )
    return {
        r.id
        for r in rows
        if r.state in CLOSED_PAIR_STATES
        or "declined" in (r.need_answer, r.achievement_answer)
        or r.id in called_off
    }


def _fixed(fair: Fair) -> dict[int, Meeting]:
    """Kept by a re-plan: confirmed or past meetings, and those whose pair is already scheduled."""
    return {
        m.suggestion_id: m
        for m in db.session.scalars(
            select(Meeting)
            .join(Suggestion, Suggestion.id == Meeting.suggestion_id)
            .where(
                Meeting.fair_id == fair.id,
                or_(
                    Meeting.status.in_(FIXED_MEETINGS),
                    (Meeting.status == "planned")
                    & (Suggestion.state == PairState.MEETING_SCHEDULED),
                ),
            )
        )
    }
