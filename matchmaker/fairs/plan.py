"""Plan a fair (which pairs meet, when, at which table), publish it, and follow its meetings up."""

import time
from collections import Counter

from sqlalchemy import select

from matchmaker.accounts.models import Organization, User
from matchmaker.core.db import utcnow
from matchmaker.core.exceptions import Conflict, Forbidden, ServiceError
from matchmaker.core.extensions import db
from matchmaker.fairs import pairs as fair_pairs
from matchmaker.fairs import plan_input
from matchmaker.fairs.models import Fair, FairRegistration
from matchmaker.fairs.organize import get_fair, slot_times
from matchmaker.listings.models import Achievement, Need
from matchmaker.matching.timetable import Booking, clashes, timetable
from matchmaker.pairs.models import Meeting, Suggestion
from matchmaker.pairs.states import PairState

# The plan input's constants and rules stay importable from here (views, CLI, tests).
CLOSED_PAIR_STATES = plan_input.CLOSED_PAIR_STATES
FLOOR = plan_input.FLOOR
WANTED_STATES = plan_input.WANTED_STATES
default_org_quota = plan_input.default_org_quota
min_score = plan_input.min_score


def compute_plan(fair_id: int) -> dict:
    """Assign and timetable a fair without saving anything (the dry run behind preview and CLI)."""
    from matchmaker.matching.assign import assign, greedy_assign  # scipy.optimize: ~1 s

    fair = get_fair(fair_id)
    start = time.perf_counter()
    given = plan_input.load(fair)
    announced = dict(
        db.session.execute(
            select(Meeting.suggestion_id, Meeting.slot).where(
                Meeting.fair_id == fair.id, Meeting.status == "planned"
            )
        ).all()
    )
    best = assign(
        given.candidates, given.quotas, excluded=given.excluded, fixed=given.fixed, prefer=announced
    )
    greedy = greedy_assign(
        given.candidates, given.quotas, excluded=given.excluded, fixed=given.fixed
    )
    by_id = {c.pair_id: c for c in given.candidates}
    chosen = [by_id[i] for i in best.pair_ids]
    plan = _timetable(fair, given, chosen, announced)
    parties = {c.pair_id: _parties(c) for c in chosen}
    degree = Counter(party for p in parties.values() for party in p)
    placed = [by_id[k] for k in plan.placement]
    report = _report(fair, given, placed)
    return report | {
        "meetings": len(plan.placement),
        "objective": round(sum(c.score for c in placed), 4),
        "greedy_objective": round(greedy.objective, 4),
        "slots_used": plan.slots_used,
        "max_degree": max(degree.values(), default=0),
        "double_booked": clashes(plan.placement, parties),
        "seconds": round(time.perf_counter() - start, 3),
        "lower_bound": plan.lower_bound,
        "unplaced": len(plan.unplaced),
        "candidates": len(given.candidates),
        "excluded": len(given.excluded),
        "must_meet": len(given.must),
        "must_meet_missed": len(best.must_meet_missed),
        "optimal": best.optimal,
        "slots": fair.slots_count,
        "tables": fair.tables_count,
        "placement": sorted((k, s, t) for k, (s, t) in plan.placement.items()),
    }


def _timetable(fair: Fair, given: plan_input.PlanInput, chosen: list, announced: dict):
    """Slots and tables for the chosen pairs; fixed meetings stay, announced slots are hints."""
    fixed = given.fixed
    bookings = [
        Booking(
            c.pair_id,
            c.need_org,
            c.achievement_org,
            fixed[c.pair_id].slot if c.pair_id in fixed else None,
            fixed[c.pair_id].table_no if c.pair_id in fixed else None,
            hint=announced.get(c.pair_id),
        )
        for c in chosen
    ]
    return timetable(bookings, fair.slots_count, fair.tables_count, given.unavailable)


def _parties(c) -> list[tuple[str, int]]:
    """Who must sit at a meeting: both listings and both organizations' representatives."""
    return [
        ("need", c.need_id),
        ("achievement", c.achievement_id),
        ("org", c.need_org),
        ("org", c.achievement_org),
    ]


BINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


def _report(fair: Fair, given: plan_input.PlanInput, placed) -> dict:
    """The plan report: score distribution, the minimum score and who meets most."""
    floor, source, candidates, quotas = (
        given.min_score,
        given.min_score_source,
        given.candidates,
        given.quotas,
    )
    chosen_scores = [c.score for c in placed]

    def histogram(values):
        counts = [0] * (len(BINS) - 1)
        for v in values:
            i = next((k for k in range(len(BINS) - 1) if v < BINS[k + 1]), len(BINS) - 2)
            counts[i] += 1
        return counts

    per_org: dict[int, int] = {}
    for c in placed:
        for org in {c.need_org, c.achievement_org}:
            per_org[org] = per_org.get(org, 0) + 1
    top = sorted(per_org.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    names = dict(
        db.session.execute(
            select(Organization.id, Organization.name).where(
                Organization.id.in_([o for o, _ in top])
            )
        ).all()
    )
    return {
        "min_score": floor,
        "min_score_source": source,
        "below_min_meetings": sum(1 for v in chosen_scores if v < floor),
        "org_quota_default": default_org_quota(fair),
        "score_bins": [f"{a:.1f}–{b:.1f}" for a, b in zip(BINS, BINS[1:], strict=False)],
        "score_candidates": histogram([c.score for c in candidates]),
        "score_meetings": histogram(chosen_scores),
        "lowest_meeting_score": round(min(chosen_scores), 4) if chosen_scores else None,
        "top_orgs": [
            {"id": o, "name": names.get(o, str(o)), "meetings": n, "quota": quotas.org.get(o)}
            for o, n in top
        ],
    }


def set_min_score(fair_id: int, value, actor_id: int | None) -> Fair:
    """Staff set the fair's minimum meeting score (0–1); blank goes back to automatic."""
    fair = get_fair(fair_id)
    require_role(actor_id)
    raw = str(value if value is not None else "").strip()
    if not raw:
        fair.min_score = None
    else:
        try:
            number = float(raw)
        except ValueError:
            number = -1.0
        if not 0 <= number <= 1:
            raise ServiceError("最低匹配分须为0到1之间的数，如 0.15", field="min_score")
        fair.min_score = number
    db.session.commit()
    return fair


def organization_names(fair_id: int, limit: int = 1000) -> list[str]:
    """Names staff pick from: organizations with listings at the fair first, then the rest."""
    regs = select(FairRegistration).where(FairRegistration.fair_id == fair_id)
    at_fair = set(
        db.session.scalars(
            select(Need.organization_id).where(
                Need.id.in_(regs.with_only_columns(FairRegistration.need_id))
            )
        )
    ) | set(
        db.session.scalars(
            select(Achievement.organization_id).where(
                Achievement.id.in_(regs.with_only_columns(FairRegistration.achievement_id))
            )
        )
    )
    rows = db.session.execute(
        select(Organization.id, Organization.name)
        .where(Organization.status == "approved")
        .order_by(Organization.name)
        .limit(limit)
    ).all()
    return [n for i, n in rows if i in at_fair] + [n for i, n in rows if i not in at_fair]


def organization_by_name(name: str) -> int:
    org_id = db.session.scalar(select(Organization.id).where(Organization.name == name.strip()))
    if org_id is None:
        raise ServiceError(f"未找到单位“{name}”，请从列表中选择", field="organization_name")
    return org_id


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
            Meeting.fair_id == fair.id,
            Meeting.status == "planned",
            Suggestion.state == PairState.ACCEPTED,
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
