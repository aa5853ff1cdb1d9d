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
        # Run by `celery beat` (or a worker started with -B); see beat_schedule().
        "beat_schedule": beat_schedule(os.environ.get("MATCHMAKER_BEAT_EVERY")),
        "beat_schedule_filename": str(INSTANCE_DIR / "celerybeat-schedule"),
        "timezone": os.environ.get("MATCHMAKER_TIMEZONE", "Asia/Shanghai"),
    }


def beat_schedule(every: str | None = None) -> dict:
    """Scheduled work; each task is safe to run twice at once (a lock or a unique row per period).

    `every` (MATCHMAKER_BEAT_EVERY, seconds) runs every entry at that interval instead: for tests
    and demonstrations, not production.
    """
    from celery.schedules import crontab

    schedule = {
        "deliver-outbox": ("deliver_outbox", 300.0),
        "reconcile-runs": ("reconcile", 60.0),
        "pair-reminders": ("send_reminders", crontab(hour=8, minute=0)),
        "incremental-catch-up": ("catch_up_incremental", crontab(hour=2, minute=30)),
        "weekly-digest": ("send_digests", crontab(day_of_week="mon", hour=7, minute=0)),
    }
    return {
        name: {"task": f"workers.tasks.{task}", "schedule": float(every) if every else when}
        for name, (task, when) in schedule.items()
    }


def web_server_refusal(environ: dict) -> str | None:
    """Why a web server must not start with this environment, or None.

    Outside development every web process must share one SECRET_KEY, or a session or CSRF token
    from one machine fails on the next. CLI commands and workers do not need it.
    """
    if environ.get("MATCHMAKER_ENV", "production") != "development" and not environ.get(
        "SECRET_KEY"
    ):
        return (
            "SECRET_KEY is not set: every web process needs the same SECRET_KEY outside "
            "development (or set MATCHMAKER_ENV=development on a single machine)"
        )
    return None


def limiter_storage_url(redis_url: str) -> str:
    """Flask-Limiter's name for the same Redis (kombu says redis+socket://, limits redis+unix://)."""
    if redis_url.startswith("redis+socket://"):
        return "redis+unix://" + redis_url.removeprefix("redis+socket://")
    return redis_url


class Config:
    ENV_NAME = os.environ.get("MATCHMAKER_ENV", "production")
    SECRET_KEY = os.environ.get("SECRET_KEY")  # create_app fills it from instance/ when unset
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'matchmaker.db'}"
    )
    # JSON stored as UTF-8 rather than \u escapes: cached tokens load about 2.5x faster.
    SQLALCHEMY_ENGINE_OPTIONS = {
        "json_serializer": partial(json.dumps, ensure_ascii=False),
    }
    # A pooled connection idle this long is pinged before use (core/connections.py): a database
    # restart costs no request, and busy connections skip the round trip.
    DATABASE_PING_IDLE_SECONDS = 1.0
    REDIS_URL = os.environ.get("REDIS_URL") or embedded_redis_url()
    CELERY = celery_settings(REDIS_URL)
    INSTANCE_DIR = INSTANCE_DIR
    MODEL_DIR = INSTANCE_DIR / "models"
    # Where fitted models are shared between workers: "db://" (the database; works without a
    # shared disk) or "file:///path" (a directory every worker can read). MODEL_DIR is then only
    # each process's local copy.
    MODEL_STORE_URL = os.environ.get("MODEL_STORE_URL", "db://")
    # Checked import uploads wait here for the user's confirmation; with several web machines
    # this must be a directory they all mount (the confirmation may reach another machine).
    # Empty: instance/imports.
    IMPORT_UPLOAD_DIR = os.environ.get("IMPORT_UPLOAD_DIR", "")
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
    # Failed sign-ins (Flask-Limiter, moving windows in Redis so every web process shares them).
    # Per login and address, each window a longer wait; per address across logins, a rate.
    LOGIN_LIMITS_PER_ACCOUNT = os.environ.get(
        "LOGIN_LIMITS_PER_ACCOUNT", "5 per minute; 10 per 15 minutes; 20 per hour; 50 per day"
    )
    LOGIN_LIMITS_PER_ADDRESS = os.environ.get("LOGIN_LIMITS_PER_ADDRESS", "30 per 5 minutes")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or limiter_storage_url(
        REDIS_URL
    )
    RATELIMIT_STRATEGY = "moving-window"
    # Check every window, so a refusal names the longest wait rather than the first one.
    RATELIMIT_FAIL_ON_FIRST_BREACH = False
    RATELIMIT_KEY_PREFIX = "matchmaker"
    # With Redis down, each process limits on its own rather than refusing every sign-in.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Proxies in front of the app whose X-Forwarded-* headers are trusted (1 behind one nginx);
    # 0 trusts none, so without a proxy nobody can forge their address.
    PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "0"))
    PROXY_FIX_X_PROTO = int(os.environ.get("PROXY_FIX_X_PROTO", "0"))
    PROXY_FIX_X_HOST = int(os.environ.get("PROXY_FIX_X_HOST", "0"))
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
    # Weekly digests: "week" (ISO week, e.g. 2026-W49) or "day"; one e-mail per recipient each.
    DIGEST_PERIOD = os.environ.get("DIGEST_PERIOD", "week")
    # How long `matching status` waits for the broker before answering without it.
    BROKER_CHECK_SECONDS = float(os.environ.get("BROKER_CHECK_SECONDS", "0.5"))
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
    # One process per test app: limits in memory (a test that needs Redis sets it).
    RATELIMIT_STORAGE_URI = "memory://"
    # Argon2 at its production cost is most of a second per hash on a busy 2-core machine.
    PASSWORD_HASH_PARAMS = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
