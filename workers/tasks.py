"""Celery tasks: thin calls into services, taking ids and JSON-able values only."""

from celery import shared_task


@shared_task(ignore_result=False)
def ping(token: str) -> str:
    """Echo a token back; the health check sends it through the broker and waits."""
    return token


@shared_task
def deliver_outbox() -> dict:
    """Send pending outbox e-mail."""
    from matchmaker.services import notifications

    return notifications.deliver_outbox()


@shared_task
def send_reminders() -> dict:
    """Remind people that pairs wait on them (run daily, e.g. from celery beat or cron)."""
    from matchmaker.services import notifications

    return notifications.send_reminders()
