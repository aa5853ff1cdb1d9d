"""One holder at a time for scheduled work, across machines: a Redis lock on the broker's Redis.

Two beat processes started by mistake (or a slow run overlapping the next) then run a scheduled
task once; the other call returns at once with "skipped". The lock expires on its own if its
holder dies.
"""

from __future__ import annotations

from contextlib import contextmanager

import redis
from flask import current_app


def redis_client() -> redis.Redis:
    """A client for the Celery broker's Redis (the embedded redis+socket:// one too)."""
    url = current_app.extensions["celery"].conf.broker_url
    if url.startswith("redis+socket://"):
        url = "unix://" + url.removeprefix("redis+socket://")
    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)


@contextmanager
def held_once(name: str, ttl: float):
    """Yield True when this call holds the lock `name` (for at most `ttl` s), else False."""
    lock = redis_client().lock(f"matchmaker:scheduled:{name}", timeout=ttl, blocking=False)
    if not lock.acquire():
        yield False
        return
    try:
        yield True
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:
            pass  # expired meanwhile: another holder may run already, nothing to undo
