"""Full rematch runs, called as the worker would (task bodies in-process, sends recorded)."""

import json
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from matchmaker.core.db import utcnow
from matchmaker.core.exceptions import Conflict
from matchmaker.core.extensions import db
from matchmaker.matching import Listing, MatchConfig, Matcher
from matchmaker.pairs.models import PairEvent, Suggestion
from matchmaker.runs import (
    export as matching_export,
)
from matchmaker.runs import (
    full_match as matching_runs,
)
from matchmaker.runs import (
    inputs as matching_inputs,
)
from matchmaker.runs import (
    vocabulary,
)
from matchmaker.runs.models import MatchChunk, MatchRun
from tests.jobs_helpers import RecordingQueue, seed_listings


@pytest.fixture
def queue(app, monkeypatch):
    q = RecordingQueue()
    monkeypatch.setattr(matching_runs, "send", q)
    return q


@pytest.fixture
def corpus(make_achievement, make_need, make_org):
    return seed_listings(make_achievement, make_need, make_org)


def rematch(queue, order=None, kind="full"):
    run = matching_runs.start_rematch(kind)
    queue.drain(order)
    db.session.expire_all()
    return db.session.get(MatchRun, run.id)


def pairs():
    rows = db.session.scalars(select(Suggestion).where(Suggestion.active.is_(True))).all()
    return {(s.need_id, s.achievement_id): (s.score, s.need_rank, s.achievement_rank) for s in rows}


def engine_pairs(achievements, needs, top_k=10):
    def plain(x):
        return Listing(
            x.id,
            x.title,
            x.description,
            tuple(x.keywords),
            org=x.organization_id,
            fields=tuple(x.field_names),
        )

    matcher = Matcher(MatchConfig()).fit(
        [plain(a) for a in achievements], [plain(n) for n in needs]
    )
    return {
        (m.need_id, m.achievement_id): (round(m.score, 6), m.need_rank, m.achievement_rank)
        for m in matcher.rank(top_k)
    }


def test_full_rematch_writes_the_engines_pairs_and_finishes_the_run(queue, corpus):
    achievements, needs = corpus
    run = rematch(queue)
    assert run.status == "succeeded" and run.progress == 1.0
    assert (run.needs, run.achievements) == (6, 6)
    assert run.chunks_done == run.chunks_total == 2
    assert run.exclusive_slot is None
    written, expected = pairs(), engine_pairs(achievements, needs)
    assert written.keys() == expected.keys()
    for key, (score, need_rank, achievement_rank) in expected.items():
        # Scores are float32 sums: a job's chunk adds the same terms in another order than the
        # whole in-process ranking, so the 6th decimal may differ by one; ranks may not.
        assert written[key][1:] == (need_rank, achievement_rank)
        assert written[key][0] == pytest.approx(score, abs=2e-6)
    assert run.suggestions == len(pairs())


def test_chunk_order_and_redelivery_give_the_same_rows(app, queue, corpus):
    app.config["MATCH_CHUNK_SIZE"] = 2
    first = rematch(queue)
    expected = pairs()
    db.session.execute(update(Suggestion).values(active=False))
    db.session.commit()
    db.session.execute(Suggestion.__table__.delete())
    db.session.commit()
    run = matching_runs.start_rematch()
    queue.drain()  # plan only queues chunks; run them backwards, each one twice
    db.session.expire_all()
    assert rematch is not None and db.session.get(MatchRun, run.id).status == "succeeded"
    assert pairs() == expected
    chunk_ids = db.session.scalars(select(MatchChunk.id).where(MatchChunk.run_id == run.id)).all()
    for chunk_id in reversed(chunk_ids):
        assert matching_runs.run_chunk(chunk_id) == "skipped"
    assert pairs() == expected
    assert first.chunks_total == 6
    assert db.session.scalar(select(db.func.count(Suggestion.id))) == len(expected)


def test_chunks_run_backwards_write_the_same_pairs(app, queue, corpus):
    app.config["MATCH_CHUNK_SIZE"] = 2
    rematch(queue)
    expected = pairs()
    db.session.execute(Suggestion.__table__.delete())
    db.session.commit()
    rematch(queue, order="reverse")
    assert pairs() == expected


def test_second_full_run_is_refused_while_one_is_active(queue, corpus):
    first = matching_runs.start_rematch()
    with pytest.raises(Conflict) as refused:
        matching_runs.start_rematch("rebuild")
    assert f"#{first.id}" in refused.value.message and "取消" in refused.value.message
    assert db.session.scalar(select(db.func.count(MatchRun.id))) == 1


def test_the_database_itself_refuses_two_active_full_runs(app):
    db.session.add(MatchRun(kind="full", status="running", exclusive_slot="rematch"))
    db.session.commit()
    db.session.add(MatchRun(kind="rebuild", status="queued", exclusive_slot="rematch"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_new_run_may_start_once_the_previous_one_ended(queue, corpus):
    rematch(queue)
    second = rematch(queue)
    assert second.status == "succeeded"


def test_broker_decisions_survive_a_rematch(queue, corpus, make_user):
    achievements, needs = corpus
    rematch(queue)
    broker = make_user("broker")
    top = {
        n.id: db.session.scalars(
            select(Suggestion).where(Suggestion.need_id == n.id).order_by(Suggestion.need_rank)
        ).first()
        for n in needs[:2]
    }
    recommended, dismissed = top[needs[0].id], top[needs[1].id]
    recommended.state, recommended.broker_id = "recommended", broker.id
    dismissed.state, dismissed.reason = "dismissed", "不相关"
    db.session.add(
        PairEvent(
            suggestion=dismissed, from_state="suggested", to_state="dismissed", actor_id=broker.id
        )
    )
    db.session.commit()
    before = {
        s.id: (s.state, s.score, s.run_id, s.lock_version, len(s.events))
        for s in (recommended, dismissed)
    }
    # The need texts change so much that the old pairs are no longer ranked at all.
    for need in needs[:2]:
        need.title, need.description, need.keywords = "完全无关的题目", "无关内容", []
        need.revision += 1
    db.session.commit()
    rematch(queue)
    db.session.expire_all()
    for s in (db.session.get(Suggestion, i) for i in before):
        assert (s.state, s.score, s.run_id, s.lock_version, len(s.events)) == before[s.id]
        assert s.active is True


def test_rematch_retires_untouched_pairs_no_longer_ranked(queue, corpus):
    achievements, needs = corpus
    rematch(queue)
    gone = achievements[0]
    old = set(db.session.scalars(select(Suggestion.id).where(Suggestion.achievement_id == gone.id)))
    assert old
    gone.status = "closed"
    db.session.commit()
    rematch(queue)
    db.session.expire_all()
    assert all(not db.session.get(Suggestion, i).active for i in old)
    assert all(a != gone.id for _, a in pairs())


def test_only_published_listings_are_matched_and_never_within_one_organization(
    queue, make_achievement, make_need, make_org
):
    org = make_org(kind="institute")
    a = make_achievement(title="碳化硅功率模块散热封装", organization=org)
    make_need(title="碳化硅功率模块散热封装", organization=org)  # same org: never paired
    draft = make_need(title="碳化硅功率模块散热封装", status="draft")
    other = make_need(title="碳化硅功率模块散热")
    run = rematch(queue)
    assert run.needs == 2 and run.achievements == 1
    assert set(pairs()) == {(other.id, a.id)}
    assert draft.id not in {n for n, _ in pairs()}


def test_cancel_stops_the_run_and_a_late_chunk_writes_nothing(queue, corpus):
    run = matching_runs.start_rematch()
    task, run_id = queue.sent.pop()
    matching_runs.plan_run(run_id)
    chunk_ids = [args[0] for _, *args in queue.sent]
    queue.sent.clear()
    matching_runs.run_chunk(chunk_ids[0])
    written = pairs()
    cancelled = matching_runs.cancel_run(run.id)
    assert cancelled.status == "cancelled" and cancelled.exclusive_slot is None
    assert matching_runs.run_chunk(chunk_ids[1]) == "skipped"
    assert pairs() == written
    with pytest.raises(Conflict):
        matching_runs.cancel_run(run.id)
    assert matching_runs.status(run.id)["status"] == "cancelled"


def test_chunk_over_the_retry_cap_fails_the_run_in_words(app, queue, corpus):
    app.config["MATCH_MAX_ATTEMPTS"] = 2
    matching_runs.start_rematch()
    queue.drain_one = None
    _, run_id = queue.sent.pop()
    matching_runs.plan_run(run_id)
    chunk_id = queue.sent[0][1]
    db.session.execute(
        update(MatchChunk)
        .where(MatchChunk.id == chunk_id)
        .values(attempts=2, error="数据库连接中断")
    )
    db.session.commit()
    assert matching_runs.run_chunk(chunk_id) == "failed"
    run = db.session.get(MatchRun, run_id)
    db.session.refresh(run)
    assert run.status == "failed" and "数据库连接中断" in run.error and "重试" in run.error
    assert run.exclusive_slot is None


def test_reconcile_requeues_the_pending_chunks_of_a_stale_run(app, queue, corpus):
    run = matching_runs.start_rematch()
    _, run_id = queue.sent.pop()
    matching_runs.plan_run(run_id)
    lost = sorted(args[0] for _, *args in queue.sent)
    queue.sent.clear()  # the worker died with these tasks
    assert matching_runs.reconcile() == []  # heartbeat still fresh
    stale = utcnow() - timedelta(seconds=app.config["MATCH_STALE_SECONDS"] + 5)
    db.session.execute(update(MatchRun).where(MatchRun.id == run.id).values(heartbeat_at=stale))
    db.session.commit()
    assert sorted(i for _, i in matching_runs.reconcile()) == lost
    queue.sent = [("run_chunk", i) for i in lost]
    queue.drain()
    assert matching_runs.status(run.id)["status"] == "succeeded"


def reconcile_from_another_worker(app) -> list:
    sent = []

    def work():
        with app.app_context():
            sent.extend(matching_runs.reconcile())
            db.session.remove()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return sent


def test_a_planning_longer_than_the_stale_limit_is_not_planned_twice(
    app, queue, corpus, monkeypatch
):
    app.config["MATCH_STALE_SECONDS"] = 0.4
    fit_or_load = matching_inputs.fit_or_load
    seen = []

    def fit_slowly(config, data):
        time.sleep(1.0)  # the fit of a large library outlasts the stale limit
        seen.append(reconcile_from_another_worker(app))
        return fit_or_load(config, data)

    monkeypatch.setattr(matching_inputs, "fit_or_load", fit_slowly)
    run = rematch(queue)
    assert seen == [[]]  # the planner's heartbeat kept the run from looking dead
    assert run.status == "succeeded" and run.attempts == 1


def test_reconcile_fails_a_run_whose_chunks_used_up_their_attempts(app, queue, corpus):
    run = matching_runs.start_rematch()
    _, run_id = queue.sent.pop()
    matching_runs.plan_run(run_id)
    stale = utcnow() - timedelta(seconds=app.config["MATCH_STALE_SECONDS"] + 5)
    db.session.execute(update(MatchChunk).values(attempts=app.config["MATCH_MAX_ATTEMPTS"]))
    db.session.execute(update(MatchRun).values(heartbeat_at=stale))
    db.session.commit()
    info = matching_runs.status(run.id)
    assert info["status"] == "failed" and "已尝试" in info["error"]


def test_vocabulary_change_gives_a_new_model_version_recorded_on_suggestions(queue, corpus):
    first = rematch(queue)
    vocabulary.add("term", "功率模块散热")
    vocabulary.add("stopword", "需要")
    second = rematch(queue, kind="rebuild")
    assert second.status == "succeeded"
    assert second.model_version != first.model_version and "+x" in second.model_version
    versions = {row["model_version"] for row in matching_export.current_rows()}
    assert versions == {second.model_version}


def test_tokens_are_cached_per_listing_revision(queue, corpus):
    achievements, needs = corpus
    rematch(queue)
    need = db.session.get(type(needs[0]), needs[0].id)
    assert need.tokens and need.tokens_revision == need.revision
    need.tokens = ["缓存词"] * 3  # a stale cache would show up in the next model's vocabulary
    db.session.commit()
    rematch(queue)
    db.session.refresh(need)
    assert need.tokens == ["缓存词"] * 3  # same revision: reused, not recomputed
    need.revision += 1
    db.session.commit()
    rematch(queue)
    db.session.refresh(need)
    assert "缓存词" not in need.tokens and need.tokens_revision == need.revision


def test_rematch_with_nothing_published_succeeds_empty(queue):
    run = rematch(queue)
    assert run.status == "succeeded" and run.chunks_total == 0 and run.suggestions == 0


def test_a_run_no_worker_ever_picks_up_fails_in_words_instead_of_waiting_forever(
    app, queue, corpus
):
    run = matching_runs.start_rematch()
    stale = utcnow() - timedelta(seconds=app.config["MATCH_STALE_SECONDS"] + 5)
    for _ in range(2 * app.config["MATCH_MAX_ATTEMPTS"] + 1):
        db.session.execute(update(MatchRun).values(heartbeat_at=stale, requeued_at=stale))
        db.session.commit()
        matching_runs.reconcile()
    info = matching_runs.status(run.id)
    assert info["status"] == "failed" and "Celery worker" in info["error"]
    assert matching_runs.start_rematch().id != run.id  # the slot is free again


def test_the_reconciler_requeues_but_never_freshens_the_heartbeat_of_a_dead_worker(
    app, queue, corpus
):
    run = matching_runs.start_rematch()
    _, run_id = queue.sent.pop()
    matching_runs.plan_run(run_id)
    queue.sent.clear()  # the worker died with its chunks
    stale = utcnow() - timedelta(seconds=app.config["MATCH_STALE_SECONDS"] + 5)
    db.session.execute(update(MatchRun).values(heartbeat_at=stale))
    db.session.commit()
    assert matching_runs.reconcile()
    assert matching_runs.reconcile() == []  # re-queued just now: not again at once
    db.session.expire_all()
    row = db.session.get(MatchRun, run.id)
    assert row.heartbeat_at == stale  # still the dead worker's last sign of life
    assert row.requeued_at > stale


def test_status_answers_at_once_and_says_so_when_the_broker_does_not_answer(app, runner, corpus):
    import socket

    silent = socket.socket()  # accepts connections and never answers, like a hung Redis
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
    app.extensions["celery"].conf.update(broker_url=url, result_backend=url)
    run = MatchRun(kind="full", status="running", chunks_total=4, chunks_done=1)
    db.session.add(run)
    db.session.commit()
    try:
        started = time.monotonic()
        result = runner.invoke(args=["matching", "status", str(run.id)])
        seconds = time.monotonic() - started
    finally:
        silent.close()
    assert result.exit_code == 0, result.output
    line = [x for x in result.output.splitlines() if x.startswith("{")][0]
    assert json.loads(line) == {
        "run_id": run.id,
        "status": "running",
        "progress": 0.25,
        "broker": "down",
    }
    assert "任务队列（Redis）连接不上" in result.output
    assert seconds < 3  # it was over 200 s
