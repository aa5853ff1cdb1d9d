"""Fairs: registration, the plan (assignment + timetable), publishing, changes and outcomes."""

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from matchmaker.core.db import utcnow
from matchmaker.core.exceptions import Conflict, Forbidden, ServiceError
from matchmaker.core.extensions import db
from matchmaker.fairs import meetings as fair_meetings
from matchmaker.fairs import organize as service
from matchmaker.fairs import plan as fair_plan
from matchmaker.fairs.models import FairRegistration
from matchmaker.pairs.models import Contract, Meeting, PairEvent


@pytest.fixture
def small_fair(make_org, make_need, make_achievement, make_pair, make_user):
    """Three companies × three institutes, every need paired with every achievement."""
    staff = make_user("staff")
    companies = [make_org(kind="enterprise") for _ in range(3)]
    institutes = [make_org(kind="institute") for _ in range(3)]
    needs = [make_need(organization=o) for o in companies]
    achs = [make_achievement(organization=o) for o in institutes]
    pairs = {}
    for i, n in enumerate(needs):
        for j, a in enumerate(achs):
            pairs[i, j] = make_pair(n, a, score=round(0.1 + 0.1 * ((i * 3 + j) % 7), 2))
    fair = service.create_fair(
        "春季对接会",
        date.today() + timedelta(days=7),
        slots=6,
        tables=4,
        default_quota=2,
        actor_id=staff.id,
    )
    service.register_all(fair.id, staff.id)
    # These tests are about quotas and slots: every pair may meet (staff set no minimum score).
    fair_plan.set_min_score(fair.id, "0", staff.id)
    return {
        "fair": fair,
        "staff": staff,
        "needs": needs,
        "achs": achs,
        "pairs": pairs,
        "companies": companies,
        "institutes": institutes,
    }


def test_slots_skip_breaks(app):
    fair = service.create_fair(
        "会",
        "2026-12-01",
        starts_at="09:00",
        ends_at="12:00",
        slot_minutes=30,
        breaks="10:00-10:30",
    )
    labels = [s.label for s in service.slot_times(fair)]
    assert labels == ["09:00–09:30", "09:30–10:00", "10:30–11:00", "11:00–11:30", "11:30–12:00"]
    assert fair.slots_count == 5


def test_create_fair_reports_each_bad_field(app):
    with pytest.raises(ServiceError) as caught:
        service.create_fair("", "2026-13-01", tables=0, ends_at="08:00")
    assert {"name", "held_on", "tables"} <= set(caught.value.errors)


def test_plan_respects_quotas_and_books_nobody_twice(small_fair):
    plan = fair_plan.compute_plan(small_fair["fair"].id)
    assert plan["meetings"] == 6  # 3 needs × quota 2 = 3 achievements × quota 2
    assert plan["double_booked"] == 0
    assert plan["max_degree"] == 2 and plan["slots_used"] == 2
    assert plan["objective"] >= plan["greedy_objective"]
    assert db.session.scalar(select(func.count(Meeting.id))) == 0  # a dry run saves nothing


def test_declined_and_dismissed_pairs_never_meet(small_fair):
    pairs = small_fair["pairs"]
    pairs[0, 0].state = "dismissed"
    pairs[1, 1].achievement_answer = "declined"
    db.session.commit()
    placed = {k for k, _, _ in fair_plan.compute_plan(small_fair["fair"].id)["placement"]}
    assert pairs[0, 0].id not in placed and pairs[1, 1].id not in placed


def test_must_meet_pair_is_taken_even_with_a_low_score(small_fair):
    fair = small_fair["fair"]
    fair.default_quota = 1
    db.session.commit()
    low = min(small_fair["pairs"].values(), key=lambda p: p.score)
    placed = {k for k, _, _ in fair_plan.compute_plan(fair.id)["placement"]}
    assert low.id not in placed
    service.request_must_meet(fair.id, low.id, small_fair["staff"].id)
    placed = {k for k, _, _ in fair_plan.compute_plan(fair.id)["placement"]}
    assert low.id in placed and len(placed) == 3


def test_organization_never_meets_itself(make_org, make_need, make_achievement, make_pair):
    org = make_org(kind="enterprise")
    pair = make_pair(make_need(organization=org), make_achievement(organization=org), score=0.9)
    fair = service.create_fair("会", "2026-12-01", slots=4, tables=2)
    service.register_all(fair.id, None)
    plan = fair_plan.compute_plan(fair.id)
    assert plan["meetings"] == 0 and pair.id not in [k for k, _, _ in plan["placement"]]


def test_unavailable_slot_is_respected(small_fair):
    fair, inst = small_fair["fair"], small_fair["institutes"][0]
    service.set_participant(fair.id, inst.id, small_fair["staff"].id, unavailable_slots=[0, 1])
    plan = fair_plan.compute_plan(fair.id)
    by_pair = {k: s for k, s, _ in plan["placement"]}
    for (_, j), pair in small_fair["pairs"].items():
        if j == 0 and pair.id in by_pair:
            assert by_pair[pair.id] >= 2
    assert plan["double_booked"] == 0


def _accept(pair):
    pair.state, pair.need_answer, pair.achievement_answer = "accepted", "interested", "interested"
    db.session.commit()


def test_publish_creates_meetings_and_schedules_accepted_pairs(small_fair):
    fair = small_fair["fair"]
    accepted = max(small_fair["pairs"].values(), key=lambda p: p.score)
    _accept(accepted)
    summary = fair_plan.publish(fair.id, small_fair["staff"].id)
    meetings = db.session.scalars(select(Meeting)).all()
    assert len(meetings) == summary["meetings"] == 6
    assert {m.fair_id for m in meetings} == {fair.id}  # no second row from the workbench
    states = {m.suggestion_id: m.suggestion.state for m in meetings}
    assert states.pop(accepted.id) == "meeting_scheduled"
    assert summary["pairs_scheduled"] == 1
    assert set(states.values()) == {"suggested"}
    assert fair.status == "published"


def test_replan_keeps_a_scheduled_pairs_meeting(small_fair):
    fair, staff = small_fair["fair"], small_fair["staff"]
    pair = max(small_fair["pairs"].values(), key=lambda p: p.score)
    _accept(pair)
    fair_plan.publish(fair.id, staff.id)
    assert pair.state == "meeting_scheduled"
    meeting_id = db.session.scalar(select(Meeting.id).where(Meeting.suggestion_id == pair.id))
    fair.default_quota = 1  # fewer meetings now; the scheduled one must stay
    db.session.commit()
    fair_plan.publish(fair.id, staff.id)
    assert db.session.get(Meeting, meeting_id).status == "planned"


def test_replan_keeps_confirmed_meetings_fixed(small_fair):
    fair, staff = small_fair["fair"], small_fair["staff"]
    fair_plan.publish(fair.id, staff.id)
    meeting = db.session.scalars(select(Meeting).order_by(Meeting.id)).first()
    fair_meetings.move_meeting(meeting.id, 5, 3, staff.id)
    fair_plan.publish(fair.id, staff.id)
    db.session.refresh(meeting)
    assert (meeting.status, meeting.slot, meeting.table_no) == ("confirmed", 5, 3)


def test_move_refuses_a_clash(small_fair):
    fair, staff = small_fair["fair"], small_fair["staff"]
    fair_plan.publish(fair.id, staff.id)
    a, b = db.session.scalars(select(Meeting).where(Meeting.slot == 0)).all()[:2]
    with pytest.raises(ServiceError) as caught:
        fair_meetings.move_meeting(a.id, b.slot, b.table_no, staff.id)
    assert caught.value.field == "table"


def test_cancelled_meeting_stays_out_of_replan(small_fair):
    fair, staff = small_fair["fair"], small_fair["staff"]
    fair_plan.publish(fair.id, staff.id)
    meeting = db.session.scalars(select(Meeting)).first()
    fair_meetings.cancel_meeting(meeting.id, staff.id, note="企业改期")
    fair_plan.publish(fair.id, staff.id)
    assert db.session.get(Meeting, meeting.id).status == "cancelled"
    assert meeting.note == "企业改期"


def test_outcomes_walk_the_pair_through_the_workbench(small_fair):
    fair, staff = small_fair["fair"], small_fair["staff"]
    fair_plan.publish(fair.id, staff.id)
    m1, m2, m3 = db.session.scalars(select(Meeting).order_by(Meeting.id)).all()[:3]
    _accept(m1.suggestion)
    fair_meetings.record_outcome(m1.id, staff.id, "held")
    fair_meetings.record_outcome(m2.id, staff.id, "no_show")
    fair_meetings.record_outcome(
        m3.id, staff.id, "contract", contract={"contract_type": "技术转让", "amount": "120.5"}
    )
    assert (m1.status, m1.suggestion.state) == ("held", "met")
    assert (m2.status, m2.suggestion.state) == ("no_show", "suggested")
    assert (m3.status, m3.suggestion.state) == ("held", "contract")
    steps = db.session.scalars(
        select(PairEvent.to_state)
        .where(PairEvent.suggestion_id == m3.suggestion_id)
        .order_by(PairEvent.id)
    ).all()
    assert steps[0] == "recommended" and steps[-4:] == [
        "meeting_scheduled",
        "met",
        "intention",
        "contract",
    ]
    assert str(db.session.scalar(select(Contract.amount))) == "120.50"
    assert db.session.scalar(select(func.count(Meeting.id)).where(Meeting.fair_id.is_(None))) == 0


def test_meeting_held_without_intention_leaves_an_unanswered_pair(small_fair):
    fair_plan.publish(small_fair["fair"].id, small_fair["staff"].id)
    meeting = db.session.scalars(select(Meeting)).first()
    fair_meetings.record_outcome(meeting.id, small_fair["staff"].id, "held")
    assert (meeting.status, meeting.suggestion.state) == ("held", "suggested")


def test_contract_outcome_needs_valid_terms(small_fair, make_user):
    fair_plan.publish(small_fair["fair"].id, small_fair["staff"].id)
    meeting = db.session.scalars(select(Meeting)).first()
    with pytest.raises(ServiceError) as caught:
        fair_meetings.record_outcome(
            meeting.id,
            make_user("broker").id,
            "contract",
            contract={"contract_type": "买卖", "amount": "-1"},
        )
    assert {"contract_type", "amount"} <= set(caught.value.errors)


def test_organization_registers_only_its_own_listings_before_closing(
    small_fair, make_user, make_need
):
    fair = service.create_fair("秋季会", "2026-12-01", slots=4, tables=2)
    user = make_user("enterprise")
    mine, other = make_need(organization=user.organization), make_need()
    service.register_listing(fair.id, "need", mine.id, user.id)
    with pytest.raises(Forbidden):
        service.register_listing(fair.id, "need", other.id, user.id)
    fair.registration_closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    with pytest.raises(Conflict):
        service.register_listing(fair.id, "need", mine.id, user.id)
    regs = db.session.scalars(select(FairRegistration).where(FairRegistration.fair_id == fair.id))
    assert [r.need_id for r in regs] == [mine.id]


def test_cli_create_and_plan(runner, small_fair):
    result = runner.invoke(
        args=[
            "fairs",
            "create",
            "--name",
            "CLI会",
            "--date",
            "2026-12-01",
            "--slots",
            "6",
            "--tables",
            "4",
            "--quota",
            "2",
            "--min-score",
            "0",
            "--register-all",
        ]
    )
    assert result.exit_code == 0, result.output
    fair_id = int(result.output.strip())
    assert (
        db.session.scalar(
            select(func.count(FairRegistration.id)).where(FairRegistration.fair_id == fair_id)
        )
        == 6
    )
    result = runner.invoke(args=["fairs", "plan", str(fair_id)])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert set(figures) == {
        "meetings",
        "objective",
        "greedy_objective",
        "slots_used",
        "max_degree",
        "double_booked",
        "seconds",
    }
    assert figures["meetings"] == 6 and figures["double_booked"] == 0
    verbose = json.loads(runner.invoke(args=["fairs", "plan", str(fair_id), "--verbose"]).output)
    assert verbose["lower_bound"] == 2 and verbose["optimal"] is True


def test_cli_rejects_a_bad_date(runner):
    result = runner.invoke(args=["fairs", "create", "--name", "x", "--date", "明天"])
    assert result.exit_code == 2 and "held_on" in result.output


def test_cli_plan_of_missing_fair_fails_cleanly(runner):
    result = runner.invoke(args=["fairs", "plan", "999"])
    assert result.exit_code == 2 and "不存在" in result.output


def test_republishing_unchanged_fair_keeps_every_meeting_in_place(small_fair):
    fair, staff = small_fair["fair"], small_fair["staff"]
    fair_plan.publish(fair.id, staff.id)
    before = {m.id: (m.suggestion_id, m.slot) for m in db.session.scalars(select(Meeting))}
    fair_plan.publish(fair.id, staff.id)
    db.session.expire_all()
    after = {m.id: (m.suggestion_id, m.slot) for m in db.session.scalars(select(Meeting))}
    assert after == before


def test_registration_closing_time_is_read_as_beijing_time(app):
    fair = service.create_fair(
        "会", "2026-12-01", slots=4, registration_closes_at="2026-11-30 18:00"
    )
    assert str(fair.registration_closes_at) == "2026-11-30 10:00:00"  # stored in UTC
    assert str(service.to_local(fair.registration_closes_at)) == "2026-11-30 18:00:00"
