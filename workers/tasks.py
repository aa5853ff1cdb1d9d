"""Celery tasks: thin calls into services, taking ids and JSON-able values only.

Every task here is safe to repeat (acks_late, reject_on_worker_lost): chunks write idempotently
and the run rows in the database say what is done. A task that hits a database or broker error
is retried with a short back-off; the attempt counters in the database cap the retries.
"""

from celery import shared_task

from matchmaker.core.extensions import db
from matchmaker.runs import full_match as matching_runs
from matchmaker.runs import incremental as matching_incremental
from workers.locks import held_once

# Any failure is retried: the database's attempt counters, not Celery's, end a hopeless chunk
# with its run marked failed and the error in words.
RETRYABLE = (Exception,)
RETRY = {"max_retries": 8}


def _backoff(retries: int) -> float:
    return min(1.0 * 2**retries, 10.0)


@shared_task(ignore_result=False)
def ping(token: str) -> str:
    """Echo a token back; the health check sends it through the broker and waits."""
    return token


@shared_task(bind=True, **RETRY)
def plan_run(self, run_id: int) -> None:
    """Fit or load the model for a full run, write its chunks and queue them."""
    try:
        matching_runs.plan_run(run_id)
    except RETRYABLE as exc:
        db.session.rollback()
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from None


@shared_task(bind=True, **RETRY)
def run_chunk(self, chunk_id: int) -> str:
    """Rank one chunk of a full run and write its suggestions."""
    try:
        return matching_runs.run_chunk(chunk_id)
    except RETRYABLE as exc:
        db.session.rollback()
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from None


@shared_task(bind=True, **RETRY)
def match_listing(self, chunk_id: int) -> str:
    """Score one published or edited listing against the current model."""
    try:
        return matching_incremental.match_listing(chunk_id)
    except RETRYABLE as exc:
        db.session.rollback()
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from None


# Scheduled by celery beat (config.beat_schedule). Each holds a Redis lock while it works, so
# two beat processes, or a run overlapping the next, do the work once; digests also keep a
# unique row per recipient and period.
SKIPPED = {"skipped": "another process is running this task"}


@shared_task
def reconcile() -> None:
    """Re-queue or fail runs whose heartbeat went stale."""
    matching_runs.reconcile()  # row locks (skip locked) already keep two reconcilers apart


@shared_task
def deliver_outbox() -> dict:
    """Send pending outbox e-mail."""
    from matchmaker.notifications import notify as notifications

    with held_once("deliver_outbox", ttl=600) as mine:
        return notifications.deliver_outbox() if mine else SKIPPED


@shared_task
def send_reminders() -> dict:
    """Remind people that pairs wait on them (daily, from celery beat)."""
    from matchmaker.pairs import notices

    with held_once("send_reminders", ttl=1800) as mine:
        return notices.send_reminders() if mine else SKIPPED


@shared_task
def catch_up_incremental() -> dict:
    """Match published or edited listings that no incremental run has seen (nightly)."""
    from matchmaker.runs import catch_up as matching_catch_up

    with held_once("catch_up_incremental", ttl=1800) as mine:
        return matching_catch_up.catch_up() if mine else SKIPPED


@shared_task
def send_digests() -> dict:
    """Queue this period's digest e-mail for brokers and organizations (weekly)."""
    from matchmaker.pairs import digests

    with held_once("send_digests", ttl=1800) as mine:
        return digests.send_digests() if mine else SKIPPED
