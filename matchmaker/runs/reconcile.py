"""The reconciler: runs whose worker went silent are re-queued, or failed past the retry cap.

Beat runs it every minute and a starting worker runs it once, so a run left behind by a killed
worker (kill -9, a lost machine) is picked up again without anyone watching.
"""

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from matchmaker.core.db import utcnow
from matchmaker.core.extensions import db
from matchmaker.runs import full_match as runs  # runs.send: the one place that queues tasks
from matchmaker.runs.models import RUN_ACTIVE, MatchChunk, MatchRun
from matchmaker.runs.run_rows import direction_label, mark_failed

log = logging.getLogger(__name__)


def reconcile() -> list[tuple[str, int]]:
    """Re-queue the work of runs whose heartbeat went stale, or fail them past the retry cap."""
    now = utcnow()
    stale_before = now - timedelta(seconds=current_app.config["MATCH_STALE_SECONDS"])
    cap = current_app.config["MATCH_MAX_ATTEMPTS"]
    # Stale: no heartbeat from a worker, and no re-queue of ours, for MATCH_STALE_SECONDS. The
    # reconciler never writes the heartbeat, so a run whose worker died keeps looking dead.
    query = (
        select(MatchRun)
        .where(
            MatchRun.status.in_(RUN_ACTIVE),
            func.coalesce(MatchRun.heartbeat_at, MatchRun.created_at) < stale_before,
            (MatchRun.requeued_at.is_(None)) | (MatchRun.requeued_at < stale_before),
        )
        .with_for_update(skip_locked=True)
    )
    sends: list[tuple[str, int]] = []
    for run in db.session.scalars(query).all():
        run.requeued_at = now
        sends.extend(_recover(run, cap))
    db.session.commit()
    for task, ident in sends:
        try:
            runs.send(task, ident)
        except Exception as exc:  # noqa: BLE001 - tried again at the next poll
            log.warning("reconcile could not queue %s(%s): %s", task, ident, exc)
    return sends


def _recover(run: MatchRun, cap: int) -> list[tuple[str, int]]:
    chunks = list(
        db.session.scalars(
            select(MatchChunk).where(MatchChunk.run_id == run.id, MatchChunk.status != "done")
        )
    )
    # Every re-queue counts, so a run that no worker ever picks up ends too, with a reason.
    run.attempts += 1
    if run.attempts > 2 * cap:
        mark_failed(
            run.id, f"已重新排队 {run.attempts - 1} 次仍无进展，请检查 Celery worker 是否在运行"
        )
        return []
    if run.kind == "incremental":
        if not chunks:
            mark_failed(run.id, "增量匹配的任务记录缺失，已放弃")
            return []
        return [("match_listing", chunks[0].id)]
    if run.chunks_total == 0:
        return [("plan_run", run.id)]
    worn = [c for c in chunks if c.attempts >= cap]
    if worn:
        c = worn[0]
        mark_failed(
            run.id,
            f"第 {c.position + 1} 块（{direction_label(c)}）已尝试 {c.attempts} 次仍未完成："
            f"{c.error or '工作进程中断'}",
        )
        return []
    return [("run_chunk", c.id) for c in chunks]
