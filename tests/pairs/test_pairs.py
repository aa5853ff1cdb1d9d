"""The pair state machine: legal moves, who may act, history, answers, contracts, concurrency."""

import threading
import time
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from matchmaker.core.exceptions import Conflict, Forbidden, ServiceError
from matchmaker.core.extensions import db
from matchmaker.core.signals import pair_moved
from matchmaker.listings.taxonomy import field_by_name
from matchmaker.notifications.models import Notification
from matchmaker.pairs import actions as pair_actions
from matchmaker.pairs import data as pair_data
from matchmaker.pairs import transitions as pairs
from matchmaker.pairs.models import Contract, PairEvent, Suggestion
from tests.conftest import using_postgres

# A meeting a week ahead (local time), as the 安排约见 form requires.
MEETING = {
    "starts_at": f"{datetime.now() + timedelta(days=7):%Y-%m-%d} 14:00",
    "place": "沈阳市浑南区创新路1号 会议室A",
}

FIELD = "机器人与智能制造"


@pytest.fixture
def broker(make_user):
    user = make_user("broker", display_name="王经纪")
    user.fields = [field_by_name(FIELD)]
    db.session.commit()
    return user


@pytest.fixture
def parties(make_user):
    def build(pair):
        need_user = make_user("enterprise", org=pair.need.organization, email="e@example.com")
        ach_user = make_user("institute", org=pair.achievement.organization)
        return need_user, ach_user

    return build


def walk_to_accepted(pair, broker, need_user, ach_user):
    pairs.transition(pair.id, broker.id, "recommended", note="很匹配")
    pairs.transition(pair.id, need_user.id, "accepted")
    return pairs.transition(pair.id, ach_user.id, "accepted")


def test_whole_path_from_suggestion_to_contract_writes_one_event_per_step(
    make_pair, broker, parties
):
    pair = make_pair()
    need_user, ach_user = parties(pair)
    walk_to_accepted(pair, broker, need_user, ach_user)
    for to in ("meeting_scheduled", "met", "intention"):
        pairs.transition(pair.id, broker.id, to, meeting=MEETING)
    contract = {"type": "技术开发", "amount": "120.5", "signed_on": date.today().isoformat()}
    pairs.transition(pair.id, broker.id, "contract", contract=contract)

    pair = db.session.get(Suggestion, pair.id)
    assert pair.state == "contract"
    assert pair.broker_id == broker.id
    events = db.session.scalars(select(PairEvent).order_by(PairEvent.id)).all()
    assert [(e.from_state, e.to_state) for e in events] == [
        ("suggested", "recommended"),
        ("recommended", "recommended"),
        ("recommended", "accepted"),
        ("accepted", "meeting_scheduled"),
        ("meeting_scheduled", "met"),
        ("met", "intention"),
        ("intention", "contract"),
    ]
    assert [e.side for e in events[1:3]] == ["need", "achievement"]
    row = db.session.scalar(select(Contract))
    assert (row.contract_type, float(row.amount)) == ("技术开发", 120.5)


@pytest.mark.parametrize(
    "start,to",
    [
        ("suggested", "met"),
        ("suggested", "contract"),
        ("suggested", "accepted"),
        ("dismissed", "recommended"),
        ("closed", "recommended"),
        ("accepted", "intention"),
    ],
)
def test_illegal_transition_is_refused_with_a_chinese_message(make_pair, broker, start, to):
    answers = {"need_answer": "interested", "achievement_answer": "interested"}
    pair = make_pair(state=start, **(answers if start == "accepted" else {}))
    with pytest.raises(Conflict) as e:
        pairs.transition(pair.id, broker.id, to, reason="other", note="x")
    assert "不能" in e.value.message or "答复" in e.value.message
    assert db.session.get(Suggestion, pair.id).state == start
    assert db.session.scalar(select(PairEvent.id)) is None


def test_dismiss_needs_a_structured_reason_and_other_needs_text(make_pair, broker):
    pair = make_pair()
    with pytest.raises(ServiceError) as e:
        pairs.transition(pair.id, broker.id, "dismissed", reason="不喜欢")
    assert "reason" in e.value.errors
    with pytest.raises(ServiceError) as e:
        pairs.transition(pair.id, broker.id, "dismissed", reason="other")
    assert "note" in e.value.errors
    pairs.transition(pair.id, broker.id, "dismissed", reason="same_group")
    pair = db.session.get(Suggestion, pair.id)
    assert (pair.state, pair.reason) == ("dismissed", "same_group")


def test_close_from_any_open_state_requires_a_reason(make_pair, broker):
    pair = make_pair(state="met", need_answer="interested", achievement_answer="interested")
    with pytest.raises(ServiceError) as e:
        pairs.transition(pair.id, broker.id, "closed")
    assert e.value.errors == {"reason": "关闭配对时请填写原因"}
    pairs.transition(pair.id, broker.id, "closed", reason="negotiation_failed")
    assert db.session.get(Suggestion, pair.id).state == "closed"


def test_a_declined_side_declines_the_pair_and_tells_broker_and_the_other_owner(
    make_pair, broker, parties
):
    pair = make_pair()
    need_user, ach_user = parties(pair)
    pairs.transition(pair.id, broker.id, "recommended")
    with pytest.raises(ServiceError) as e:
        pairs.transition(pair.id, need_user.id, "declined")
    assert "reason" in e.value.errors
    pairs.transition(pair.id, need_user.id, "declined", reason="price_mismatch", note="太贵")
    pair = db.session.get(Suggestion, pair.id)
    assert (pair.state, pair.need_answer) == ("declined", "declined")
    told = {
        n.user_id: n.message
        for n in db.session.scalars(select(Notification))
        if n.kind == "pair_declined"
    }
    assert set(told) == {broker.id, ach_user.id}
    assert "价格与预算不符" in told[ach_user.id] and "太贵" in told[ach_user.id]
    with pytest.raises(Conflict):
        pairs.transition(pair.id, ach_user.id, "accepted")


def test_parties_answer_only_for_their_own_side(make_pair, broker, parties, make_user):
    pair = make_pair()
    need_user, ach_user = parties(pair)
    stranger = make_user("enterprise")
    pairs.transition(pair.id, broker.id, "recommended")
    with pytest.raises(Forbidden):
        pairs.transition(pair.id, need_user.id, "accepted", side="achievement")
    with pytest.raises(Forbidden):
        pairs.transition(pair.id, stranger.id, "accepted", side="need")
    with pytest.raises(Forbidden):
        pairs.transition(pair.id, need_user.id, "meeting_scheduled")
    pairs.transition(pair.id, need_user.id, "accepted")
    with pytest.raises(Conflict) as e:
        pairs.transition(pair.id, need_user.id, "accepted")
    assert "需求方已经答复过" in e.value.message


def test_broker_records_an_answer_on_a_sides_behalf_only_with_side(make_pair, broker):
    pair = make_pair()
    pairs.transition(pair.id, broker.id, "recommended")
    with pytest.raises(ServiceError) as e:
        pairs.transition(pair.id, broker.id, "accepted")
    assert "side" in e.value.errors
    pairs.transition(pair.id, broker.id, "accepted", side="need")
    pairs.transition(pair.id, broker.id, "accepted", side="achievement")
    assert db.session.get(Suggestion, pair.id).state == "accepted"


def test_broker_outside_the_pairs_fields_may_not_act_but_staff_may(make_pair, make_user):
    pair = make_pair()
    other = make_user("broker")
    other.fields = [field_by_name("生物医药")]
    db.session.commit()
    with pytest.raises(Forbidden):
        pairs.transition(pair.id, other.id, "recommended")
    staff = make_user("staff")
    pairs.transition(pair.id, staff.id, "recommended")
    assert db.session.get(Suggestion, pair.id).state == "recommended"


def test_claimed_pair_is_closed_to_other_brokers(make_pair, broker, make_user):
    pair = make_pair()
    rival = make_user("broker")
    rival.fields = [field_by_name(FIELD)]
    db.session.commit()
    pair_actions.claim(pair.id, broker.id)
    with pytest.raises(Forbidden):
        pair_actions.claim(pair.id, rival.id)
    with pytest.raises(Forbidden) as e:
        pairs.transition(pair.id, rival.id, "recommended")
    assert "认领" in e.value.message
    pair_actions.unclaim(pair.id, broker.id)
    pairs.transition(pair.id, rival.id, "recommended")


def test_contract_data_is_validated_field_by_field(make_pair, broker):
    pair = make_pair(state="intention", need_answer="interested", achievement_answer="interested")
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    with pytest.raises(ServiceError) as e:
        pairs.transition(
            pair.id,
            broker.id,
            "contract",
            contract={"type": "买卖", "amount": "-1", "signed_on": tomorrow},
        )
    assert set(e.value.errors) == {"contract.type", "contract.amount", "contract.signed_on"}
    with pytest.raises(ServiceError) as e:
        pairs.transition(pair.id, broker.id, "contract", contract={"type": "技术服务"})
    assert "contract.signed_on" in e.value.errors
    assert db.session.get(Suggestion, pair.id).state == "intention"


def test_stale_version_is_refused(make_pair, broker):
    pair = make_pair()
    version = pair.lock_version
    pair_actions.claim(pair.id, broker.id)
    with pytest.raises(Conflict) as e:
        pairs.transition(pair.id, broker.id, "recommended", expected_version=version)
    assert "已被他人修改" in e.value.message


def test_notes_claims_and_snoozes_are_kept_in_history_without_moving_the_pair(make_pair, broker):
    pair = make_pair()
    pair_actions.add_note(pair.id, broker.id, "企业很急")
    pair_actions.claim(pair.id, broker.id)
    pair_actions.snooze(pair.id, broker.id, 3)
    pair = db.session.get(Suggestion, pair.id)
    assert pair.state == "suggested" and pair.snoozed_until is not None
    kinds = [e["kind"] for e in pair_data.history(pair)]
    assert kinds == ["note", "claim", "snooze"]
    assert pairs.is_worked(pair)


def test_untouched_suggestion_is_not_worked_and_any_event_makes_it_worked(make_pair, broker):
    fresh, noted = make_pair(), make_pair()
    pair_actions.add_note(noted.id, broker.id, "看过了")
    assert not pairs.is_worked(db.session.get(Suggestion, fresh.id))
    assert pairs.is_worked(db.session.get(Suggestion, noted.id))
    worked = db.session.scalars(select(Suggestion.id).where(pairs.worked_clause())).all()
    assert worked == [noted.id]


def test_pair_moved_is_sent_after_commit(make_pair, broker):
    pair = make_pair()
    seen = []

    def receiver(sender, **kw):
        # A fresh connection sees the committed state only after the commit.
        with db.engine.connect() as conn:
            state = conn.execute(
                text("SELECT state FROM suggestions WHERE id = :id"), {"id": sender}
            ).scalar()
        seen.append((sender, kw["from_state"], kw["to_state"], state))

    with pair_moved.connected_to(receiver):
        pairs.transition(pair.id, broker.id, "recommended")
    assert seen == [(pair.id, "suggested", "recommended", "recommended")]


def test_broker_proposes_a_pair_the_matcher_did_not_suggest(broker, make_need, make_achievement):
    need, achievement = make_need(), make_achievement()
    pair = pair_actions.propose(broker.id, need.id, achievement.id, note="展会上认识")
    assert (pair.source, pair.state, pair.claimed_by_id) == ("broker", "suggested", broker.id)
    with pytest.raises(Conflict):
        pair_actions.propose(broker.id, need.id, achievement.id)
    with pytest.raises(ServiceError) as e:
        pair_actions.propose(broker.id, 9999, achievement.id)
    assert "need_id" in e.value.errors


def test_bulk_dismiss_reports_each_pair(make_pair, broker):
    a, b = make_pair(), make_pair(state="dismissed", reason="off_topic")
    result = pair_actions.bulk([a.id, b.id], broker.id, "dismissed", reason="off_topic")
    assert result["done"] == [a.id] and list(result["failed"]) == [b.id]


def test_reassign_is_for_staff_and_tells_the_new_broker(make_pair, broker, make_user):
    pair = make_pair()
    staff = make_user("staff")
    with pytest.raises(Forbidden):
        pair_actions.reassign(pair.id, broker.id, broker.id)
    pair_actions.reassign(pair.id, staff.id, broker.id)
    pair = db.session.get(Suggestion, pair.id)
    assert pair.broker_id == broker.id == pair.claimed_by_id
    assert db.session.scalar(select(Notification.kind).where(Notification.user_id == broker.id))


needs_postgres = pytest.mark.skipif(
    not using_postgres(),
    reason="row locks (SELECT ... FOR UPDATE) need PostgreSQL; SQLite "
    "serializes writers, so there is no race to test",
)


@needs_postgres
def test_a_mover_waits_for_a_locked_pair_and_then_sees_it_was_taken(app, make_pair, broker):
    pair = make_pair()
    pair_id, broker_id = pair.id, broker.id
    outcome = {}

    def second_broker():
        with app.app_context():
            try:
                pairs.transition(pair_id, broker_id, "recommended")
                outcome["result"] = "moved"
            except Conflict as e:
                outcome["result"] = e.message
            db.session.remove()

    with db.engine.connect() as conn:
        tx = conn.begin()
        conn.execute(text("SELECT id FROM suggestions WHERE id = :id FOR UPDATE"), {"id": pair_id})
        conn.execute(
            text(
                "UPDATE suggestions SET state = 'dismissed', reason = 'off_topic', "
                "lock_version = lock_version + 1 WHERE id = :id"
            ),
            {"id": pair_id},
        )
        worker = threading.Thread(target=second_broker)
        worker.start()
        time.sleep(0.5)
        assert "result" not in outcome, "the second mover must wait for the row lock"
        tx.commit()
    worker.join(10)
    assert "不能从「已驳回」变为「已推荐」" in outcome["result"]


@needs_postgres
def test_two_brokers_recommending_at_once_one_wins_over_http(app, make_pair, broker, make_user):
    from matchmaker.accounts.users import issue_token

    pair = make_pair()
    rival = make_user("broker")
    rival.fields = [field_by_name(FIELD)]
    db.session.commit()
    tokens = [issue_token(broker.login), issue_token(rival.login)]
    pair_id = pair.id
    barrier = threading.Barrier(len(tokens))
    results = []

    def post(token):
        client = app.test_client()
        barrier.wait()
        response = client.post(
            f"/api/v1/pairs/{pair_id}/transitions",
            json={"to": "recommended", "note": "推荐"},
            headers={"Authorization": f"Bearer {token}"},
        )
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=post, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    statuses = sorted(code for code, _ in results)
    assert statuses == [200, 409], results
    loser = next(body for code, body in results if code == 409)
    assert loser["message"]
    db.session.expire_all()
    events = db.session.scalars(select(PairEvent).where(PairEvent.suggestion_id == pair_id)).all()
    assert [(e.from_state, e.to_state) for e in events] == [("suggested", "recommended")]


def test_database_refuses_an_engaged_state_without_both_answers(make_pair):
    from sqlalchemy.exc import IntegrityError

    pair = make_pair()
    pair.state = "meeting_scheduled"
    pair.need_answer = "interested"
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    pair = db.session.get(Suggestion, pair.id)
    pair.state = "declined"
    with pytest.raises(IntegrityError):
        db.session.commit()


def test_figures_report_median_days_between_stages(make_pair, broker, parties):
    from datetime import datetime

    from matchmaker.pairs import figures as broker_figures

    pair = make_pair()
    need_user, ach_user = parties(pair)
    walk_to_accepted(pair, broker, need_user, ach_user)
    events = db.session.scalars(select(PairEvent).order_by(PairEvent.id)).all()
    pair = db.session.get(Suggestion, pair.id)
    pair.created_at = datetime(2026, 1, 1)
    events[0].at = datetime(2026, 1, 3)  # recommended two days later
    events[2].at = datetime(2026, 1, 8)  # accepted five days after that
    db.session.commit()
    (row, total) = broker_figures.figures("broker")
    assert row["name"] == "王经纪" and (row["reviewed"], row["recommended"]) == (1, 1)
    assert row["interested"] == 1 and row["contracts"] == 0
    assert row["median_days"]["suggested→recommended"] == 2.0
    assert row["median_days"]["recommended→accepted"] == 5.0
    assert total["name"] == "合计" and total["recommended"] == 1
