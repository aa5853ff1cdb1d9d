"""Full rematch runs: start, plan into chunks, run chunks, finish, cancel, reconcile.

A run's state lives in its MatchRun row. Planning fits (or loads) the model and writes one
MatchChunk per slice of needs or achievements; each chunk writes its pairs, marks itself done
and counts itself on the run in one transaction, and the chunk that counts last finishes the run.
A unique slot on the run row keeps a second full run from starting while one is active.
"""

from __future__ import annotations

import logging
import time

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from matchmaker.core import worker_health
from matchmaker.core.db import utcnow
from matchmaker.core.exceptions import Conflict, ServiceError
from matchmaker.core.extensions import db
from matchmaker.runs import heartbeat as run_heartbeat
from matchmaker.runs import inputs as inputs_service
from matchmaker.runs import model_refit, model_store, vocabulary
from matchmaker.runs import suggestions as store
from matchmaker.runs.models import RUN_ACTIVE, MatchChunk, MatchRun
from matchmaker.runs.run_rows import (  # noqa: F401  (read through this module by callers)
    KIND_LABELS,
    STATUS_LABELS,
    describe,
    direction_label,
    fail_run,
    finish_run,
    get_run,
    list_runs,
    mark_failed,
)

log = logging.getLogger(__name__)

ACTIVE = RUN_ACTIVE
SLOT = "rematch"


def send(task: str, *args) -> None:
    """Put one task on the broker by name (services never import the worker module)."""
    current_app.extensions["celery"].send_task(f"workers.tasks.{task}", args=list(args))


def _cfg(name: str):
    return current_app.config[name]


# -- start, cancel, read -------------------------------------------------------------------
def start_rematch(kind: str = "full", user_id: int | None = None) -> MatchRun:
    """Queue a full rematch (or a model rebuild and rematch); refuse while one is active."""
    if kind not in ("full", "rebuild"):
        raise ServiceError("未知的任务类型", field="kind")
    now = utcnow()
    run = MatchRun(
        kind=kind,
        status="queued",
        exclusive_slot=SLOT,
        requested_by_id=user_id,
        created_at=now,  # no heartbeat yet: only the worker that plans the run beats
    )
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        active = db.session.scalar(select(MatchRun).where(MatchRun.exclusive_slot == SLOT))
        which = f"#{active.id}（{STATUS_LABELS[active.status]}）" if active else ""
        raise Conflict(
            f"已有全量匹配任务{which}在进行，请等它结束或先取消，再启动新的匹配"
        ) from None
    try:
        send("plan_run", run.id)
    except Exception as exc:  # noqa: BLE001 - the broker being down is reported on the run
        mark_failed(run.id, f"无法把任务发送到队列（Redis）：{exc}")
        db.session.commit()
        raise ServiceError("任务队列（Redis）暂时不可用，匹配未能启动，请稍后重试") from None
    return run


def cancel_run(run_id: int) -> MatchRun:
    """Cancel a queued or running run; chunks not yet committed will not commit."""
    run = get_run(run_id)
    result = db.session.execute(
        update(MatchRun)
        .where(MatchRun.id == run_id, MatchRun.status.in_(ACTIVE))
        .values(
            status="cancelled", finished_at=utcnow(), exclusive_slot=None, error="已由工作人员取消"
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if not result.rowcount:
        raise Conflict(f"任务 #{run_id} 已{STATUS_LABELS[run.status]}，无法取消")
    db.session.refresh(run)
    return run


def status(run_id: int) -> dict:
    """Reconcile stuck runs, then return the run's {"run_id", "status", "progress"} and details.

    When the broker does not answer within BROKER_CHECK_SECONDS nothing can be re-queued: the
    run is read as it stands and "broker" says "down" (instead of waiting on the broker).
    """
    get_run(run_id)
    broker = "ok" if worker_health.broker_reachable(_cfg("BROKER_CHECK_SECONDS")) else "down"
    if broker == "ok":
        reconcile()
    db.session.expire_all()
    return describe(get_run(run_id)) | {"broker": broker}


# -- planning ------------------------------------------------------------------------------
def plan_run(run_id: int) -> None:
    """Fit or load the model, write the run's chunks and queue them (the plan task's body)."""
    run = db.session.get(MatchRun, run_id, with_for_update=True)
    if run is None or run.status not in ACTIVE:
        db.session.rollback()
        return
    run.attempts += 1  # deliveries of the plan plus the reconciler's re-queues
    if run.attempts > 2 * _cfg("MATCH_MAX_ATTEMPTS"):
        mark_failed(run_id, f"模型准备已尝试 {run.attempts - 1} 次仍未完成，任务终止")
        db.session.commit()
        return
    now = utcnow()
    run.status, run.heartbeat_at = "running", now
    run.started_at = run.started_at or now
    db.session.commit()

    chunk_ids = _plan(run_id)
    for chunk_id in chunk_ids:
        send("run_chunk", chunk_id)


def _plan(run_id: int) -> list[int]:
    from matchmaker.matching.gc_pause import gc_paused

    with run_heartbeat.beating(run_id, every=_cfg("MATCH_STALE_SECONDS") / 4), gc_paused():
        return _plan_chunks(run_id)


def _plan_chunks(run_id: int) -> list[int]:
    from matchmaker.matching import Matcher

    config = vocabulary.match_config()
    vocabulary_now = Matcher(config).version
    reuse = inputs_service.vocabulary_of(model_store.current_version()) == vocabulary_now
    started = time.monotonic()
    data = inputs_service.load_published(config, reuse)
    log.info(
        "run %s: %d achievements and %d needs loaded in %.1f s",
        run_id,
        len(data.achievements),
        len(data.needs),
        time.monotonic() - started,
    )
    if not data.needs or not data.achievements:  # nothing to pair: finish empty below
        data.needs, data.achievements, version = [], [], ""
    else:
        version, _ = inputs_service.fit_or_load(config, data)
    if not _lock_active(run_id):
        db.session.rollback()
        return []
    inputs_service.write_tokens(data.stale_tokens)
    run = db.session.get(MatchRun, run_id)
    existing = list(
        db.session.scalars(
            select(MatchChunk).where(MatchChunk.run_id == run_id).order_by(MatchChunk.id)
        )
    )
    if existing:  # planned already by an earlier delivery: queue what is left
        db.session.commit()
        return [c.id for c in existing if c.status != "done"]
    size = max(1, _cfg("MATCH_CHUNK_SIZE"))
    chunks = []
    for direction, listings in (("need", data.needs), ("achievement", data.achievements)):
        ids = [x.id for x in listings]
        for position, start in enumerate(range(0, len(ids), size)):
            chunks.append(
                MatchChunk(
                    run_id=run_id,
                    direction=direction,
                    position=position,
                    listing_ids=ids[start : start + size],
                )
            )
    db.session.add_all(chunks)
    run.model_version = version
    run.needs, run.achievements = len(data.needs), len(data.achievements)
    run.chunks_total, run.chunks_done = len(chunks), 0
    if not chunks:
        finish_run(run_id)
    db.session.commit()
    return [c.id for c in chunks]


def _lock_active(run_id: int) -> bool:
    """Lock the run row for this transaction if it is still running."""
    result = db.session.execute(
        update(MatchRun)
        .where(MatchRun.id == run_id, MatchRun.status == "running")
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


# -- chunks --------------------------------------------------------------------------------
def run_chunk(chunk_id: int) -> str:
    """Rank one chunk's listings and write its pairs; return what happened (for logs)."""
    chunk = db.session.get(MatchChunk, chunk_id)
    if chunk is None:
        return "missing"
    run = db.session.get(MatchRun, chunk.run_id)
    if run.status != "running" or chunk.status == "done":
        db.session.rollback()
        return "skipped"
    chunk.attempts += 1
    if chunk.attempts > _cfg("MATCH_MAX_ATTEMPTS"):
        chunk.status = "failed"
        mark_failed(
            run.id,
            f"第 {chunk.position + 1} 块（{direction_label(chunk)}）重试 "
            f"{chunk.attempts - 1} 次仍失败：{chunk.error or '工作进程中断'}",
        )
        db.session.commit()
        return "failed"
    chunk.status = "running"
    run.heartbeat_at = utcnow()
    direction, ids, version, run_id = (
        chunk.direction,
        list(chunk.listing_ids),
        run.model_version,
        run.id,
    )
    db.session.commit()
    try:
        matches = _rank(version, direction, ids, run_id)
    except Exception as exc:
        db.session.rollback()
        _record_chunk_error(chunk_id, exc)
        raise
    return "written" if write_chunk(chunk_id, run_id, direction, matches, version) else "skipped"


def _rank(version: str, direction: str, ids: list[int], run_id: int) -> list:
    try:
        matcher = model_store.load(version)
    except model_store.ModelMissing:  # in no store: refit from the run's listings, not retry
        matcher = model_refit.refit(run_id, version)
    top_k = _cfg("MATCH_TOP_K")
    if direction == "need":
        return matcher.rank_needs(need_ids=ids, top_k=top_k)
    return matcher.rank_achievements(achievement_ids=ids, top_k=top_k)


def write_chunk(chunk_id: int, run_id: int, direction: str, matches: list, version: str) -> bool:
    """In one transaction: mark the chunk done, upsert its pairs, count it, maybe finish."""
    done = db.session.execute(
        update(MatchChunk)
        .where(MatchChunk.id == chunk_id, MatchChunk.status != "done")
        .values(status="done", error="", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not done.rowcount:
        db.session.rollback()
        return False
    store.upsert_matches(matches, direction, run_id, version)
    # The run row is locked last and briefly, so chunks on several workers write in parallel.
    counted = db.session.execute(
        update(MatchRun)
        .where(MatchRun.id == run_id, MatchRun.status == "running")
        .values(chunks_done=MatchRun.chunks_done + 1, heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not counted.rowcount:  # cancelled or failed meanwhile: write nothing of this chunk
        db.session.rollback()
        return False
    progress = db.session.execute(
        select(MatchRun.chunks_done, MatchRun.chunks_total).where(MatchRun.id == run_id)
    ).one()
    if progress.chunks_done >= progress.chunks_total:
        finish_run(run_id)
    db.session.commit()
    return True


def _record_chunk_error(chunk_id: int, exc: Exception) -> None:
    try:
        db.session.execute(
            update(MatchChunk)
            .where(MatchChunk.id == chunk_id, MatchChunk.status != "done")
            .values(status="pending", error=str(exc)[:500])
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    except Exception:  # noqa: BLE001 - the database may be the thing that failed
        db.session.rollback()


# -- reconciling (runs/reconcile.py) -------------------------------------------------------
def reconcile() -> list[tuple[str, int]]:
    """Re-queue the work of runs whose heartbeat went stale, or fail them past the retry cap."""
    # Imported here: reconcile.py queues its tasks through this module's send.
    from matchmaker.runs.reconcile import reconcile as reconcile_stale

    return reconcile_stale()
