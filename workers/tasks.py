"""Celery tasks: thin calls into services, taking ids and JSON-able values only.

Every task here is safe to repeat (acks_late, reject_on_worker_lost): chunks write idempotently
and the run rows in the database say what is done. A task that hits a database or broker error
is retried with a short back-off (MatchJob); the attempt counters in the database cap the retries.
"""

from celery import shared_task

from matchmaker.core.extensions import FlaskTask, db
from matchmaker.runs import full_match as matching_runs
from matchmaker.runs import incremental as matching_incremental
from workers.locks import held_once


class MatchJob(FlaskTask):
    """A matching job that is retried on any failure, with exponential back-off and jitter.

    Any failure, not only a lost connection: the database's attempt counters, not Celery's, end
    a hopeless chunk with its run marked failed and the error in words, so the job must come
    back to count. Jitter spreads the retries of a whole run's chunks after a database blip.
    """

    autoretry_for = (Exception,)
    max_retries = 8
    retry_backoff = 1  # seconds before the first retry, doubling
    retry_backoff_max = 10
    retry_jitter = True

    def retry(self, *args, **kwargs):
        # Before the retry is queued: the failed transaction must not keep its row locks while
        # the next attempt (on any worker) waits for them, nor poison a shared test session.
        db.session.rollback()
        return super().retry(*args, **kwargs)


@shared_task(ignore_result=False)
def ping(token: str) -> str:
    """Echo a token back; the health check sends it through the broker and waits."""
    return token


@shared_task(base=MatchJob)
def plan_run(run_id: int) -> None:
    """Fit or load the model for a full run, write its chunks and queue them."""
    matching_runs.plan_run(run_id)


@shared_task(base=MatchJob)
def run_chunk(chunk_id: int) -> str:
    """Rank one chunk of a full run and write its suggestions."""
    return matching_runs.run_chunk(chunk_id)


@shared_task(base=MatchJob)
def match_listing(chunk_id: int) -> str:
    """Score one published or edited listing against the current model."""
    return matching_incremental.match_listing(chunk_id)


# Scheduled by celery beat (config.beat_schedule). Each holds a Redis lock while it works, so
# two beat processes, or a run overlapping the next, do the work once; digests also keep a
# unique row per recipient and period.
SKIPPED = {"skipped": "another process is running this task"}


def _alone(lock: str, ttl: int, work) -> dict:
    """Run `work` while holding the task's Redis lock, or skip it when another process holds it."""
    with held_once(lock, ttl=ttl) as mine:
        return work() if mine else SKIPPED


@shared_task
def reconcile() -> None:
    """Re-queue or fail runs whose heartbeat went stale."""
    matching_runs.reconcile()  # row locks (skip locked) already keep two reconcilers apart


@shared_task
def deliver_outbox() -> dict:
    """Send pending outbox e-mail."""
    from matchmaker.notifications import notify as notifications

    return _alone("deliver_outbox", 600, notifications.deliver_outbox)


@shared_task
def send_reminders() -> dict:
    """Remind people that pairs wait on them (daily, from celery beat)."""
    from matchmaker.pairs import notices

    return _alone("send_reminders", 1800, notices.send_reminders)


@shared_task
def catch_up_incremental() -> dict:
    """Match published or edited listings that no incremental run has seen (nightly)."""
    from matchmaker.runs import catch_up as matching_catch_up

    return _alone("catch_up_incremental", 1800, matching_catch_up.catch_up)


@shared_task
def send_digests() -> dict:
    """Queue this period's digest e-mail for brokers and organizations (weekly)."""
    from matchmaker.pairs import digests

    return _alone("send_digests", 1800, digests.send_digests)
