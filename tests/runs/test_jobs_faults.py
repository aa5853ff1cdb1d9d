"""Faults against real PostgreSQL, a real redis-server of the test's own and real worker processes.

Each test seeds a few hundred listings, computes the expected export with an uninterrupted run in
this process, deletes those suggestions, then runs the same rematch on a real worker while
breaking something, and compares the exports.
"""

import json
import os
import time

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.engine import make_url

from matchmaker.core import worker_health
from matchmaker.core.extensions import db
from matchmaker.pairs.models import Suggestion
from matchmaker.runs import export as matching_export
from matchmaker.runs import full_match as matching_runs
from matchmaker.runs import model_store
from matchmaker.runs.models import MatchChunk, MatchRun
from tests.conftest import using_postgres
from tests.jobs_faults import RedisServer, TcpProxy, Worker, seed_corpus
from tests.jobs_helpers import RecordingQueue

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not using_postgres(), reason="fault tests need TEST_DATABASE_URL=postgresql://..."
    ),
]
CHUNK = 10
STALE = 4


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def jobs(app, tmp_path, redis_server, make_org, monkeypatch):
    """The app pointed at the own Redis, listings seeded, and a factory of real workers."""
    celery = app.extensions["celery"]
    celery.conf.update(broker_url=redis_server.url, result_backend=redis_server.url)
    app.config.update(MATCH_CHUNK_SIZE=CHUNK, MATCH_STALE_SECONDS=STALE, MATCH_MAX_ATTEMPTS=8)
    seed_corpus(make_org)
    workers = []

    def start_worker(database_url=None):
        env = dict(os.environ)
        env.update(
            DATABASE_URL=database_url or app.config["SQLALCHEMY_DATABASE_URI"],
            REDIS_URL=redis_server.url,
            MATCHMAKER_INSTANCE=str(tmp_path),
            MATCH_CHUNK_SIZE=str(CHUNK),
            MATCH_STALE_SECONDS=str(STALE),
            MATCH_MAX_ATTEMPTS="8",
            SECRET_KEY="fault-tests",
        )
        worker = Worker(env, tmp_path / "worker.log", f"w{len(workers)}").start()
        workers.append(worker)
        wait_for(
            lambda: worker_health.check(timeout=1)["ok"], 40, "a worker to answer ping", tmp_path
        )
        return worker

    yield start_worker
    for worker in workers:
        worker.kill()
    db.session.rollback()


def wait_for(condition, seconds, what, tmp_path=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    log = (tmp_path / "worker.log").read_text()[-3000:] if tmp_path else ""
    raise AssertionError(f"timed out waiting for {what}\n{log}")


def expected_export(monkeypatch) -> list[dict]:
    """Run the rematch uninterrupted in this process, keep its export, then clear the pairs."""
    queue = RecordingQueue()
    with monkeypatch.context() as patch:
        patch.setattr(matching_runs, "send", queue)
        run = matching_runs.start_rematch()
        queue.drain()
    assert matching_runs.status(run.id)["status"] == "succeeded"
    rows = list(matching_export.current_rows())
    clear_suggestions()
    model_store._cache.clear()
    return rows


def clear_suggestions():
    db.session.execute(delete(Suggestion))
    db.session.commit()


def status(run_id):
    return matching_runs.status(run_id)


def finish(run_id, seconds=45, tmp_path=None):
    wait_for(
        lambda: status(run_id)["status"] in ("succeeded", "failed", "cancelled"),
        seconds,
        f"run {run_id} to end",
        tmp_path,
    )
    return status(run_id)


def progress_at_least(run_id, share):
    info = status(run_id)
    return info["chunks_total"] > 0 and info["chunks_done"] >= share * info["chunks_total"]


def test_killed_worker_mid_rematch_then_restarted_gives_the_uninterrupted_export(
    jobs, monkeypatch, tmp_path
):
    expected = expected_export(monkeypatch)
    worker = jobs()
    run = matching_runs.start_rematch()
    wait_for(lambda: progress_at_least(run.id, 0.2), 40, "20% progress", tmp_path)
    worker.kill()
    info = status(run.id)
    assert info["status"] == "running" and info["chunks_done"] < info["chunks_total"]
    jobs()
    info = finish(run.id, tmp_path=tmp_path)
    assert info["status"] == "succeeded", info
    assert info["chunks_done"] == info["chunks_total"]
    assert list(matching_export.current_rows()) == expected


def test_redis_restarted_mid_run_the_run_completes_without_loss_or_duplicates(
    jobs, redis_server, monkeypatch, tmp_path
):
    expected = expected_export(monkeypatch)
    jobs()
    run = matching_runs.start_rematch()
    wait_for(lambda: progress_at_least(run.id, 0.2), 40, "20% progress", tmp_path)
    redis_server.kill()  # the queued chunk messages are gone with it
    time.sleep(1)
    redis_server.start()
    info = finish(run.id, tmp_path=tmp_path)
    assert info["status"] == "succeeded", info
    assert list(matching_export.current_rows()) == expected
    pairs = db.session.execute(
        select(
            func.count(),
            func.count(func.distinct(Suggestion.need_id * 1_000_000 + Suggestion.achievement_id)),
        )
    ).one()
    assert pairs[0] == pairs[1] == len(expected)


def test_every_chunk_delivered_twice_writes_no_duplicates_and_the_same_scores(
    jobs, app, monkeypatch, tmp_path
):
    expected = expected_export(monkeypatch)
    jobs()
    run = matching_runs.start_rematch()
    wait_for(lambda: status(run.id)["chunks_total"] > 0, 30, "chunks to be planned", tmp_path)
    chunk_ids = db.session.scalars(select(MatchChunk.id).where(MatchChunk.run_id == run.id)).all()
    for chunk_id in chunk_ids:  # a second delivery of each, while the first ones still run
        matching_runs.send("run_chunk", chunk_id)
    info = finish(run.id, tmp_path=tmp_path)
    assert info["status"] == "succeeded"
    assert info["chunks_done"] == info["chunks_total"] == len(chunk_ids)
    # and once more after the run ended: the worker skips them, nothing changes
    for chunk_id in chunk_ids:
        matching_runs.send("run_chunk", chunk_id)
    assert worker_health.check(timeout=20)["ok"]  # the ping queues behind them
    time.sleep(0.5)
    assert list(matching_export.current_rows()) == expected
    assert db.session.scalar(select(func.count(Suggestion.id))) == len(expected)


def test_database_cut_for_a_moment_the_chunks_retry_and_the_run_completes(
    jobs, app, monkeypatch, tmp_path
):
    expected = expected_export(monkeypatch)
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    try:
        jobs(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
        run = matching_runs.start_rematch()
        wait_for(lambda: progress_at_least(run.id, 0.2), 40, "20% progress", tmp_path)
        proxy.cut()
        time.sleep(3)
        during = status(run.id)
        proxy.restore()
        info = finish(run.id, tmp_path=tmp_path)
    finally:
        proxy.stop()
    assert during["status"] == "running"
    assert info["status"] == "succeeded", info
    assert list(matching_export.current_rows()) == expected
    log = (tmp_path / "worker.log").read_text()
    assert "Retry in" in log or "retry" in log.lower()


def test_cancel_mid_run_stops_within_seconds_and_leaves_no_half_written_chunk(
    jobs, monkeypatch, tmp_path
):
    expected_export(monkeypatch)
    jobs()
    run = matching_runs.start_rematch()
    wait_for(lambda: progress_at_least(run.id, 0.1), 40, "10% progress", tmp_path)
    cancelled = matching_runs.cancel_run(run.id)
    assert cancelled.status == "cancelled"
    assert status(run.id)["status"] == "cancelled"
    time.sleep(2)  # whatever the worker was doing has finished or been refused by now
    db.session.expire_all()
    run_row = db.session.get(MatchRun, run.id)
    count = db.session.scalar(select(func.count(Suggestion.id)))
    time.sleep(1.5)
    assert db.session.scalar(select(func.count(Suggestion.id))) == count
    assert run_row.chunks_done < run_row.chunks_total
    matcher = model_store.load(run_row.model_version)
    chunks = db.session.scalars(select(MatchChunk).where(MatchChunk.run_id == run.id)).all()
    done = [c for c in chunks if c.status == "done"]
    assert len(done) == run_row.chunks_done
    for chunk in chunks:
        rank_col = (
            Suggestion.need_rank if chunk.direction == "need" else Suggestion.achievement_rank
        )
        own_col = Suggestion.need_id if chunk.direction == "need" else Suggestion.achievement_id
        written = set(
            db.session.execute(
                select(Suggestion.need_id, Suggestion.achievement_id).where(
                    own_col.in_(chunk.listing_ids), rank_col.is_not(None)
                )
            ).all()
        )
        if chunk.status == "done":
            ranked = (
                matcher.rank_needs(need_ids=chunk.listing_ids)
                if chunk.direction == "need"
                else matcher.rank_achievements(achievement_ids=chunk.listing_ids)
            )
            assert written == {(m.need_id, m.achievement_id) for m in ranked}
        else:
            assert written == set(), f"chunk {chunk.id} ({chunk.status}) left rows behind"


def test_health_check_sends_a_real_task_to_a_running_worker(jobs, app, runner):
    jobs()
    result = runner.invoke(args=["matching", "health", "--timeout", "10"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ok"] is True
    response = app.test_client().get("/healthz/worker")
    assert response.status_code == 200 and response.get_json()["ok"] is True
