"""Scheduled tasks: the nightly catch-up, the locks that keep two schedulers from doubling up."""

import pytest
from sqlalchemy import func, select

from config import beat_schedule
from matchmaker.core.extensions import db
from matchmaker.pairs.models import Suggestion
from matchmaker.runs import catch_up as matching_catch_up
from matchmaker.runs import full_match as matching_runs
from matchmaker.runs.models import MatchRun
from tests.jobs_helpers import RecordingQueue, seed_listings
from workers import tasks
from workers.locks import held_once


@pytest.fixture
def queue(app, monkeypatch):
    q = RecordingQueue()
    monkeypatch.setattr(matching_runs, "send", q)
    return q


@pytest.fixture
def fitted(queue, make_achievement, make_need, make_org):
    seed_listings(make_achievement, make_need, make_org)
    run = matching_runs.start_rematch()
    queue.drain()
    assert matching_runs.status(run.id)["status"] == "succeeded"
    return run


def incremental_runs() -> int:
    return db.session.scalar(
        select(func.count()).select_from(MatchRun).where(MatchRun.kind == "incremental")
    )


def test_a_listing_published_while_no_incremental_match_ran_is_matched_by_the_catch_up(
    queue, fitted, make_need
):
    # published straight into the table: no signal, as when the queue was down at publish time
    need = make_need(title="焊接机器人焊缝视觉跟踪需求", description="焊缝 跟踪 视觉 机器人")
    assert matching_catch_up.unmatched_listings() == [("need", need.id)]
    assert matching_catch_up.catch_up() == {"queued": 1}
    assert matching_catch_up.catch_up() == {"queued": 0}  # in progress: not queued twice
    queue.drain()
    assert db.session.scalar(
        select(func.count()).select_from(Suggestion).where(Suggestion.need_id == need.id)
    )
    assert matching_catch_up.catch_up() == {"queued": 0}  # matched now
    assert incremental_runs() == 1


def test_an_edit_no_match_has_seen_is_caught_up_and_unpublished_listings_are_not(
    queue, fitted, make_achievement
):
    from matchmaker.listings.models import Achievement

    edited = db.session.scalars(select(Achievement).order_by(Achievement.id)).first()
    edited.revision += 1
    make_achievement(title="草稿成果", status="draft")
    db.session.commit()
    assert matching_catch_up.unmatched_listings() == [("achievement", edited.id)]


def test_the_catch_up_waits_for_the_first_full_rematch(queue, make_need):
    make_need(title="尚无模型时发布的需求")
    assert matching_catch_up.catch_up()["queued"] == 0
    assert incremental_runs() == 0


def test_a_scheduled_task_another_process_is_running_returns_at_once(app):
    with held_once("send_digests", ttl=30) as mine:
        assert mine
        assert tasks.send_digests() == tasks.SKIPPED
        with held_once("send_digests", ttl=30) as again:
            assert not again
    with held_once("send_digests", ttl=30) as mine:
        assert mine  # released on leaving


def test_the_schedule_runs_every_scheduled_task_and_can_be_shortened():
    names = {entry["task"] for entry in beat_schedule().values()}
    assert names == {
        f"workers.tasks.{t}"
        for t in (
            "deliver_outbox",
            "reconcile",
            "send_reminders",
            "catch_up_incremental",
            "send_digests",
        )
    }
    assert all(hasattr(tasks, n.rsplit(".", 1)[1]) for n in names)
    assert {e["schedule"] for e in beat_schedule("2").values()} == {2.0}
