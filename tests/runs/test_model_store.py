"""Models shared through MODEL_STORE_URL: a worker with an empty MODEL_DIR loads from the store."""

import pytest
from sqlalchemy import func, select, update

from matchmaker.core.extensions import db
from matchmaker.matching import Listing, MatchConfig, Matcher
from matchmaker.runs import export as matching_export
from matchmaker.runs import full_match as matching_runs
from matchmaker.runs import model_store
from matchmaker.runs.models import MatchChunk, MatchRun, StoredModel, StoredModelPart
from tests.jobs_helpers import RecordingQueue, seed_listings

ACHIEVEMENTS = [
    Listing(1, "焊接机器人视觉定位", "基于结构光的焊缝跟踪", ("焊接", "机器人"), "制造", 1),
    Listing(2, "碳化硅功率器件封装", "低热阻封装与散热", ("碳化硅",), "材料", 2),
]
NEEDS = [
    Listing(1, "焊缝自动跟踪", "需要机器人焊接时自动识别焊缝", (), "制造", 3),
    Listing(2, "功率模块散热", "碳化硅模块温升过高", (), "材料", 4),
]


def fitted() -> Matcher:
    return Matcher(MatchConfig()).fit(ACHIEVEMENTS, NEEDS)


def another_machine(app, tmp_path, name: str) -> None:
    """Forget this process's models, as a worker on a machine with its own disk would have."""
    model_store._cache.clear()
    app.config["MODEL_DIR"] = tmp_path / name / "models"


@pytest.fixture(autouse=True)
def _empty_cache():
    model_store._cache.clear()
    yield
    model_store._cache.clear()


def test_a_worker_with_its_own_model_dir_loads_the_model_from_the_database(app, tmp_path):
    assert app.config["MODEL_STORE_URL"] == "db://"
    matcher = fitted()
    expected = [(m.need_id, m.achievement_id, m.score) for m in matcher.rank(1)]
    model_store.save(matcher, "v-db")
    another_machine(app, tmp_path, "machine-b")
    assert not model_store.model_path("v-db").exists()

    loaded = model_store.load("v-db")

    assert [(m.need_id, m.achievement_id, m.score) for m in loaded.rank(1)] == expected
    assert model_store.model_path("v-db").exists()  # cached on this machine's own disk now
    assert model_store.exists("v-db") and not model_store.exists("v-other")


def test_a_large_model_is_stored_in_slices_and_read_back_whole(app, tmp_path, monkeypatch):
    monkeypatch.setattr(model_store, "PART_BYTES", 1000)
    path = model_store.save(fitted(), "v-sliced")
    size = path.stat().st_size
    parts = db.session.scalar(select(func.count()).select_from(StoredModelPart))
    assert parts == -(-size // 1000) and parts > 1
    another_machine(app, tmp_path, "machine-b")
    model_store.load("v-sliced")
    assert model_store.model_path("v-sliced").read_bytes() == path.read_bytes()


def test_saving_the_same_version_twice_keeps_one_stored_copy(app):
    model_store.save(fitted(), "v-twice")
    model_store.save(fitted(), "v-twice")  # a redelivered plan saves again
    assert db.session.scalar(select(func.count()).select_from(StoredModel)) == 1


def test_a_damaged_stored_model_is_refused_and_leaves_no_file(app, tmp_path):
    model_store.save(fitted(), "v-bad")
    db.session.execute(update(StoredModelPart).values(data=b"not a model"))
    db.session.commit()
    another_machine(app, tmp_path, "machine-b")
    with pytest.raises(OSError, match="不完整"):
        model_store.load("v-bad")
    assert not [p for p in (tmp_path / "machine-b").rglob("*") if p.is_file()]


def test_an_unknown_version_says_it_was_never_stored(app):
    with pytest.raises(model_store.ModelMissing, match="尚未保存到模型存储"):
        model_store.load("v-never")


def test_a_directory_store_shares_models_between_model_dirs(app, tmp_path):
    app.config["MODEL_STORE_URL"] = (tmp_path / "shared").as_uri()
    model_store.save(fitted(), "v-file")
    assert (tmp_path / "shared" / "v-file.joblib").exists()
    assert db.session.scalar(select(func.count()).select_from(StoredModel)) == 0
    another_machine(app, tmp_path, "machine-b")
    assert model_store.load("v-file").rank(1)
    assert model_store.model_path("v-file").exists()


@pytest.mark.parametrize("url", ["s3://bucket/models", "file://", "ftp://x"])
def test_an_unknown_store_url_is_refused_in_words(url):
    with pytest.raises(ValueError, match="MODEL_STORE_URL"):
        model_store.store_for(url)


def test_chunks_on_a_machine_that_did_not_plan_the_run_complete(
    app, tmp_path, make_achievement, make_need, make_org
):
    seed_listings(make_achievement, make_need, make_org)
    queue = RecordingQueue()
    original = matching_runs.send
    matching_runs.send = queue
    try:
        run = matching_runs.start_rematch()
        _, run_id = queue.sent.pop()
        matching_runs.plan_run(run_id)  # machine A fits and stores the model
        another_machine(app, tmp_path, "machine-b")
        queue.drain()  # machine B runs every chunk
    finally:
        matching_runs.send = original
    info = matching_runs.status(run.id)
    assert info["status"] == "succeeded" and info["error"] == ""
    assert list(matching_export.current_rows())
    errors = db.session.scalars(select(MatchChunk.error).where(MatchChunk.run_id == run.id))
    assert not any("模型文件不存在" in e for e in errors)
    assert db.session.get(MatchRun, run.id).attempts == 1


def test_old_stored_models_are_dropped_but_the_current_one_and_those_of_active_runs_stay(
    app, monkeypatch
):
    from datetime import timedelta

    from matchmaker.core.db import utcnow

    monkeypatch.setattr(model_store, "KEEP_STORED", 100)  # saving prunes; not yet
    matcher = fitted()
    for n in range(6):
        model_store.save(matcher, f"v{n}")
        db.session.execute(
            update(StoredModel)
            .where(StoredModel.version == f"v{n}")
            .values(created_at=utcnow() - timedelta(hours=10 - n))
        )
        db.session.commit()
    db.session.add(MatchRun(kind="full", status="succeeded", model_version="v0"))
    db.session.add(MatchRun(kind="full", status="running", model_version="v1"))
    db.session.commit()
    monkeypatch.setattr(model_store, "KEEP_STORED", 3)
    assert model_store.prune() == 1  # v2: neither current, in use, nor among the newest
    stored = set(db.session.scalars(select(StoredModel.version)))
    assert stored == {"v0", "v1", "v3", "v4", "v5"}
    assert not db.session.scalar(
        select(func.count()).select_from(StoredModelPart).where(StoredModelPart.version == "v2")
    )


def _drop_stored_models() -> None:
    db.session.execute(StoredModelPart.__table__.delete())
    db.session.execute(StoredModel.__table__.delete())
    db.session.commit()


def _planned_run(make_achievement, make_need, make_org):
    seed_listings(make_achievement, make_need, make_org)
    queue = RecordingQueue()
    original = matching_runs.send
    matching_runs.send = queue
    run = matching_runs.start_rematch()
    queue.sent.clear()
    matching_runs.plan_run(run.id)  # machine A fits and stores the model, then loses it
    return run.id, queue, original


def _ranking(matcher) -> list:
    return [(m.need_id, m.achievement_id, round(m.score, 9)) for m in matcher.rank(3)]


def test_a_chunk_whose_model_is_in_no_store_refits_it_from_the_runs_listings(
    app, tmp_path, make_achievement, make_need, make_org
):
    run_id, queue, original = _planned_run(make_achievement, make_need, make_org)
    try:
        version = db.session.get(MatchRun, run_id).model_version
        planned = _ranking(model_store.load(version))
        _drop_stored_models()
        another_machine(app, tmp_path, "machine-b")
        queue.drain()  # machine B: no file, no stored copy
    finally:
        matching_runs.send = original
    info = matching_runs.status(run_id)
    assert info["status"] == "succeeded" and info["error"] == ""
    attempts = db.session.scalars(select(MatchChunk.attempts).where(MatchChunk.run_id == run_id))
    assert set(attempts) == {1}  # no chunk failed or was retried
    # Same listings, same tokens: the same version again, stored for the other workers.
    assert model_store.shared_store().has(version)
    another_machine(app, tmp_path, "machine-c")
    assert _ranking(model_store.load(version)) == planned
    assert list(matching_export.current_rows())


def test_a_refit_after_the_listings_changed_finishes_the_run_but_stores_nothing_under_its_name(
    app, tmp_path, make_achievement, make_need, make_org
):
    from matchmaker.listings.models import Achievement

    run_id, queue, original = _planned_run(make_achievement, make_need, make_org)
    try:
        version = db.session.get(MatchRun, run_id).model_version
        _drop_stored_models()
        first = db.session.scalars(select(Achievement).order_by(Achievement.id)).first()
        first.title, first.revision = "海水淡化反渗透膜", first.revision + 1
        db.session.commit()
        another_machine(app, tmp_path, "machine-b")
        queue.drain()
    finally:
        matching_runs.send = original
    assert matching_runs.status(run_id)["status"] == "succeeded"
    assert not model_store.shared_store().has(version)
