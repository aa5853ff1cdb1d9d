"""Plan a fair (which pairs meet, when, at which table), publish it, and follow its meetings up."""

import time

from sqlalchemy import or_, select

from matchmaker.extensions import db
from matchmaker.matching.assign import Candidate, Quotas, assign, greedy_assign
from matchmaker.matching.timetable import Booking, clashes, timetable
from matchmaker.models import (
    Achievement,
    Fair,
    FairParticipant,
    FairRegistration,
    Meeting,
    MustMeet,
    Need,
    Suggestion,
    User,
    utcnow,
)
from matchmaker.services import Conflict, Forbidden, ServiceError, fair_pairs
from matchmaker.services.fairs import get_fair, slot_times

CLOSED_PAIR_STATES = ("dismissed", "declined", "closed")
FIXED_MEETINGS = ("confirmed", "held", "no_show")


def _problem(fair: Fair):
    """Candidates, quotas, excluded/fixed ids and party availability from the database."""
    regs = db.session.execute(
        select(
            FairRegistration.need_id, FairRegistration.achievement_id, FairRegistration.quota
        ).where(FairRegistration.fair_id == fair.id)
    ).all()
    slots = fair.slots_count
    listing_quota = {}
    for need_id, ach_id, quota in regs:
        key = ("need", need_id) if need_id is not None else ("achievement", ach_id)
        listing_quota[key] = min(slots, fair.default_quota if quota is None else quota)
    parts = db.session.execute(
        select(
            FairParticipant.organization_id,
            FairParticipant.quota,
            FairParticipant.unavailable_slots,
        ).where(FairParticipant.fair_id == fair.id)
    ).all()
    unavailable = {org: set(s or ()) for org, _, s in parts}
    org_quota = {org: q for org, q, _ in parts if q is not None}
    must = set(
        db.session.scalars(select(MustMeet.suggestion_id).where(MustMeet.fair_id == fair.id))
    )
    reg_needs = select(FairRegistration.need_id).where(FairRegistration.fair_id == fair.id)
    reg_achs = select(FairRegistration.achievement_id).where(FairRegistration.fair_id == fair.id)
    rows = db.session.execute(
        select(
            Suggestion.id,
            Suggestion.need_id,
            Suggestion.achievement_id,
            Suggestion.score,
            Suggestion.state,
            Suggestion.need_answer,
            Suggestion.achievement_answer,
            Need.organization_id,
            Achievement.organization_id,
        )
        .join(Need, Need.id == Suggestion.need_id)
        .join(Achievement, Achievement.id == Suggestion.achievement_id)
        .where(
            Suggestion.need_id.in_(reg_needs),
            Suggestion.achievement_id.in_(reg_achs),
            or_(Suggestion.active.is_(True), Suggestion.state != "suggested"),
        )
    ).all()
    candidates, excluded = [], set()
    called_off = set(
        db.session.scalars(
            select(Meeting.suggestion_id).where(
                Meeting.fair_id == fair.id, Meeting.status == "cancelled"
            )
        )
    )
    for pid, nid, aid, score, state, n_ans, a_ans, norg, aorg in rows:
        if state in CLOSED_PAIR_STATES or "declined" in (n_ans, a_ans) or pid in called_off:
            excluded.add(pid)
        candidates.append(Candidate(pid, nid, aid, norg, aorg, float(score), pid in must))
    orgs = {c.need_org for c in candidates} | {c.achievement_org for c in candidates}
    for org in orgs:  # one representative: never more meetings than slots they can attend
        cap = slots - len(unavailable.get(org, ()))
        wanted = org_quota.get(org, fair.org_quota)
        org_quota[org] = cap if wanted is None else min(wanted, cap)
    # Kept by a re-plan: confirmed or past meetings, and those whose pair is already scheduled.
    fixed = {
        m.suggestion_id: m
        for m in db.session.scalars(
            select(Meeting)
            .join(Suggestion, Suggestion.id == Meeting.suggestion_id)
            .where(
                Meeting.fair_id == fair.id,
                or_(
                    Meeting.status.in_(FIXED_MEETINGS),
                    (Meeting.status == "planned") & (Suggestion.state == "meeting_scheduled"),
                ),
            )
        )
    }
    quotas = Quotas(
        default_listing=min(slots, fair.default_quota),
        listing=listing_quota,
        default_org=None,
        org=org_quota,
        total=slots * fair.tables_count,
    )
    return candidates, quotas, excluded, fixed, unavailable, must


def compute_plan(fair_id: int) -> dict:
    """Assign and timetable a fair without saving anything (the dry run behind preview and CLI)."""
    fair = get_fair(fair_id)
    start = time.perf_counter()
    candidates, quotas, excluded, fixed, unavailable, must = _problem(fair)
    announced = dict(
        db.session.execute(
            select(Meeting.suggestion_id, Meeting.slot).where(
                Meeting.fair_id == fair.id, Meeting.status == "planned"
            )
        ).all()
    )
    best = assign(candidates, quotas, excluded=excluded, fixed=fixed, prefer=announced)
    greedy = greedy_assign(candidates, quotas, excluded=excluded, fixed=fixed)
    by_id = {c.pair_id: c for c in candidates}
    chosen = [by_id[i] for i in best.pair_ids]
    plan = timetable(
        [
            Booking(
                c.pair_id,
                c.need_org,
                c.achievement_org,
                fixed[c.pair_id].slot if c.pair_id in fixed else None,
                fixed[c.pair_id].table_no if c.pair_id in fixed else None,
                hint=announced.get(c.pair_id),
            )
            for c in chosen
        ],
        fair.slots_count,
        fair.tables_count,
        unavailable,
    )
    parties = {
        c.pair_id: [
            ("need", c.need_id),
            ("achievement", c.achievement_id),
            ("org", c.need_org),
            ("org", c.achievement_org),
        ]
        for c in chosen
    }
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


def require_role(actor_id: int | None, *roles: str) -> User | None:
    """Check the actor's role; None is a trusted caller (the CLI)."""
    if actor_id is None:
        return None
    user = db.session.get(User, actor_id)
    if user is None or user.role not in (roles or ("staff",)):
        raise Forbidden("当前角色无权执行此操作")
    return user


def publish(fair_id: int, actor_id: int | None) -> dict:
    """Save the plan as meetings (a re-run keeps fixed meetings) and schedule accepted pairs."""
    fair = get_fair(fair_id)
    require_role(actor_id)
    if fair.status == "closed":
        raise Conflict("对接会已结束，不能重新排期")
    plan = compute_plan(fair.id)
    slots = slot_times(fair)
    wanted = {k: (s, t) for k, s, t in plan["placement"]}
    meetings = {
        m.suggestion_id: m
        for m in db.session.scalars(select(Meeting).where(Meeting.fair_id == fair.id))
    }
    for pair_id, meeting in meetings.items():
        if meeting.status == "planned" and pair_id not in wanted:
            db.session.delete(meeting)  # "cancelled" stays for meetings staff called off
    for pair_id, (slot, table) in wanted.items():
        meeting = meetings.get(pair_id)
        if meeting is None:
            meeting = Meeting(fair_id=fair.id, suggestion_id=pair_id)
            db.session.add(meeting)
        elif meeting.status != "planned":
            continue
        meeting.status, meeting.slot, meeting.table_no = "planned", slot, table
        meeting.starts_at = slots[slot].starts
        meeting.place = f"{fair.venue} 第{table + 1}桌".strip()
    fair.status = "published"
    fair.published_at = utcnow()
    db.session.commit()
    scheduled = refused = 0
    ready = db.session.scalars(
        select(Meeting.id)
        .join(Suggestion, Suggestion.id == Meeting.suggestion_id)
        .where(
            Meeting.fair_id == fair.id, Meeting.status == "planned", Suggestion.state == "accepted"
        )
    ).all()
    for meeting_id in ready:
        try:
            scheduled += fair_pairs.schedule(meeting_id, actor_id, note=fair.name)
        except ServiceError:
            db.session.rollback()
            refused += 1
    fair.plan_summary = {k: v for k, v in plan.items() if k != "placement"}
    fair.plan_summary |= {"pairs_scheduled": scheduled, "pairs_not_moved": refused}
    db.session.commit()
    return fair.plan_summary
