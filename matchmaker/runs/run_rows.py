"""A matching run's row as the other run modules read and end it: labels, reading, describing,
finishing and failing. Below full_match.py and reconcile.py, which both use it."""

from sqlalchemy import select, update

from matchmaker.core.db import utcnow
from matchmaker.core.exceptions import NotFound
from matchmaker.core.extensions import db
from matchmaker.runs import suggestions as store
from matchmaker.runs.models import RUN_ACTIVE, MatchChunk, MatchRun

ACTIVE = RUN_ACTIVE
STATUS_LABELS = {
    "queued": "排队中",
    "running": "运行中",
    "succeeded": "已完成",
    "failed": "失败",
    "cancelled": "已取消",
}
KIND_LABELS = {"full": "全量匹配", "rebuild": "重建模型并匹配", "incremental": "增量匹配"}


def get_run(run_id: int) -> MatchRun:
    run = db.session.get(MatchRun, run_id)
    if run is None:
        raise NotFound(f"匹配任务 #{run_id} 不存在")
    return run


def list_runs(limit: int = 50, kinds=("full", "rebuild", "incremental")) -> list[MatchRun]:
    return list(
        db.session.scalars(
            select(MatchRun)
            .where(MatchRun.kind.in_(kinds))
            .order_by(MatchRun.id.desc())
            .limit(limit)
        )
    )


def describe(run: MatchRun) -> dict:
    """Plain data for the API, the CLI and the progress poll."""
    end = run.finished_at or (utcnow() if run.status in ACTIVE else None)
    return {
        "run_id": run.id,
        "kind": run.kind,
        "status": run.status,
        "status_label": STATUS_LABELS[run.status],
        "progress": round(run.progress, 4),
        "needs": run.needs,
        "achievements": run.achievements,
        "suggestions": run.suggestions,
        "chunks_done": run.chunks_done,
        "chunks_total": run.chunks_total,
        "model_version": run.model_version,
        "error": run.error,
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "seconds": round((end - run.created_at).total_seconds(), 3) if end else None,
    }


def direction_label(chunk: MatchChunk) -> str:
    return "需求" if chunk.direction == "need" else "成果"


def finish_run(run_id: int) -> None:
    """Retire the pairs the run no longer ranks and mark it succeeded; the caller commits."""
    run = db.session.get(MatchRun, run_id)
    db.session.refresh(run)
    store.retire_unranked(run_id, run.started_at or run.created_at)
    now = utcnow()
    run.suggestions = store.count_for_run(run_id)
    run.status, run.finished_at, run.heartbeat_at, run.exclusive_slot = "succeeded", now, now, None
    run.error = ""


def mark_failed(run_id: int, message: str) -> None:
    """Mark a run failed with a message in words; the caller commits."""
    db.session.execute(
        update(MatchRun)
        .where(MatchRun.id == run_id, MatchRun.status.in_(ACTIVE))
        .values(status="failed", error=message[:2000], finished_at=utcnow(), exclusive_slot=None)
        .execution_options(synchronize_session=False)
    )


def fail_run(run_id: int, message: str) -> None:
    """Fail a run from outside (a task that gave up); commits."""
    mark_failed(run_id, message)
    db.session.commit()
