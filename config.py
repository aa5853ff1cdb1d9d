"""Configuration from environment variables, with defaults for a first run on one machine.

Nothing here touches the disk or the network at import: paths are only computed.
"""

import json
import os
from functools import partial
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("MATCHMAKER_INSTANCE", PROJECT_ROOT / "instance"))


def embedded_redis_url(instance_dir: Path = INSTANCE_DIR) -> str:
    """The broker address of the Redis that `make run` starts when no REDIS_URL is set."""
    return f"redis+socket://{instance_dir / 'redis.sock'}"


def celery_settings(broker_url: str) -> dict:
    """Celery settings for jobs that are safe to repeat (chunks write idempotently)."""
    return {
        "broker_url": broker_url,
        "include": ["workers.tasks"],
        "task_ignore_result": True,
        # Only the health check's ping keeps a result (task_ignore_result covers the rest).
        "result_backend": broker_url,
        "result_expires": 300,
        # A publish to a dead broker fails in seconds instead of hanging a web request.
        "task_publish_retry_policy": {
            "max_retries": 3,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 1,
        },
        "worker_prefetch_multiplier": 1,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {"visibility_timeout": 3600},
        "worker_hijack_root_logger": False,
        # Run by `celery beat` (or a worker started with -B): pending mail and daily reminders.
        "beat_schedule": {
            "deliver-outbox": {"task": "workers.tasks.deliver_outbox", "schedule": 300.0},
            "pair-reminders": {"task": "workers.tasks.send_reminders", "schedule": 86400.0},
        },
    }


class Config:
    ENV_NAME = os.environ.get("MATCHMAKER_ENV", "production")
    SECRET_KEY = os.environ.get("SECRET_KEY")  # create_app fills it from instance/ when unset
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'matchmaker.db'}"
    )
    # JSON stored as UTF-8 rather than \u escapes: cached tokens load about 2.5x faster.
    SQLALCHEMY_ENGINE_OPTIONS = {
        "pool_pre_ping": True,
        "json_serializer": partial(json.dumps, ensure_ascii=False),
    }
    REDIS_URL = os.environ.get("REDIS_URL") or embedded_redis_url()
    CELERY = celery_settings(REDIS_URL)
    INSTANCE_DIR = INSTANCE_DIR
    MODEL_DIR = INSTANCE_DIR / "models"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = ENV_NAME != "development"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    LOGIN_MAX_FAILURES = 5
    LOGIN_WINDOW_SECONDS = 15 * 60
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "matchmaker@localhost")
    REMINDER_DAYS = int(os.environ.get("REMINDER_DAYS", "7"))
    # Where the site is reached from outside, for links in e-mail (e.g. https://match.example.cn).
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "")
    # Queue a Celery task to send outbox e-mail right after a pair event (tests send by hand).
    OUTBOX_QUEUE = True
    PAGE_SIZE = 20
    # Matching jobs: listings per chunk, suggestions kept per listing, when a run counts as
    # stuck (no heartbeat), and how often a chunk may be tried before its run fails.
    MATCH_CHUNK_SIZE = int(os.environ.get("MATCH_CHUNK_SIZE", "250"))
    MATCH_TOP_K = int(os.environ.get("MATCH_TOP_K", "10"))
    MATCH_STALE_SECONDS = float(os.environ.get("MATCH_STALE_SECONDS", "120"))
    MATCH_MAX_ATTEMPTS = int(os.environ.get("MATCH_MAX_ATTEMPTS", "5"))
    # Processes the planning step may fork for the model's one-off feedback pass on large inputs
    # (set it to the cores the matching workers have; chunks always rank in one process each).
    MATCH_PLAN_JOBS = int(os.environ.get("MATCH_PLAN_JOBS", "1"))
    # Times are stored in UTC and shown in this zone on every page (the `localtime` filter).
    DISPLAY_TIMEZONE = os.environ.get("DISPLAY_TIMEZONE", "Asia/Shanghai")
    # A text edit to a published listing: "review" sends it back to staff review,
    # "log" keeps it published and records the change in its history.
    LISTING_EDIT_REVIEW = os.environ.get("LISTING_EDIT_REVIEW", "review")


class TestConfig(Config):
    TESTING = True
    ENV_NAME = "test"
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    CELERY = celery_settings(REDIS_URL)
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_ENABLED = False
    OUTBOX_QUEUE = False
    # Argon2 at its production cost is most of a second per hash on a busy 2-core machine.
    PASSWORD_HASH_PARAMS = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
