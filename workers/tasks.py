"""Celery tasks: thin calls into services, taking ids and JSON-able values only."""

from celery import shared_task


@shared_task(ignore_result=False)
def ping(token: str) -> str:
    """Echo a token back; the health check sends it through the broker and waits."""
    return token
