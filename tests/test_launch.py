"""`make run` the way a new user runs it: a clean environment, the printed address, Ctrl-C."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, ProxyHandler, build_opener

import psutil
import pytest

from matchmaker.demo.seed import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(instance: Path, port: int, **extra: str) -> dict:
    """What a new user's shell has: no DATABASE_URL, no REDIS_URL, nothing of ours."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(instance)),
        "LANG": "C.UTF-8",
        "MATCHMAKER_INSTANCE": str(instance),
        "PORT": str(port),
    }
    env.update(extra)
    return env


class Launcher:
    """`python -m matchmaker.launch` in its own process group, its output collected."""

    def __init__(self, env: dict):
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "matchmaker.launch"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, seconds: float = 180) -> re.Match:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if match := re.search(pattern, line):
                    return match
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"launcher never printed {pattern!r}; output:\n{self.output[-4000:]}")

    def ctrl_c(self, seconds: float = 60) -> tuple[int, list[psutil.Process]]:
        """Press Ctrl-C as a terminal does (SIGINT to the group); return exit code, survivors."""
        if self.proc.poll() is not None:  # already stopped (or killed after a failure)
            self.proc.stdout.close()
            return self.proc.returncode, []
        family = psutil.Process(self.proc.pid).children(recursive=True)
        os.killpg(self.proc.pid, signal.SIGINT)
        code = self.proc.wait(timeout=seconds)
        _, alive = psutil.wait_procs(family, timeout=10)
        self._reader.join(timeout=5)
        self.proc.stdout.close()
        return code, alive

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._reader.join(timeout=5)
        self.proc.stdout.close()


def sign_in(base: str, login: str) -> str:
    """Log in through the real form (CSRF on) and return the page it lands on."""
    opener = build_opener(ProxyHandler({}), HTTPCookieProcessor(CookieJar()))
    form = opener.open(f"{base}/auth/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    data = urlencode({"csrf_token": token, "login": login, "password": DEMO_PASSWORD}).encode()
    return opener.open(f"{base}/auth/login", data, timeout=30).read().decode()


def served_by(base: str) -> str:
    """The Server header of the home page: the web server's name, no version."""
    opener = build_opener(ProxyHandler({}))
    with opener.open(f"{base}/healthz", timeout=30) as response:
        return response.headers["Server"]


def worker_processes(launcher: Launcher) -> list[psutil.Process]:
    """The Celery worker's main process among the launcher's children."""
    return [
        p for p in psutil.Process(launcher.proc.pid).children() if "celery" in " ".join(p.cmdline())
    ]


def worker_answers(instance: Path, seconds: float = 60) -> bool:
    """True once a Celery worker answers a ping over the embedded Redis."""
    from celery import Celery

    app = Celery(broker=f"redis+socket://{instance / 'redis.sock'}")
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if app.control.ping(timeout=2):
                return True
        return False
    finally:
        app.close()


@pytest.mark.slow
def test_make_run_serves_a_logged_in_platform_stops_on_ctrl_c_and_keeps_data(tmp_path):
    port = free_port()
    launcher = Launcher(clean_env(tmp_path, port))
    try:
        address = launcher.wait_for(r"open (http://127\.0\.0\.1:\d+)").group(1)
        assert address == f"http://127.0.0.1:{port}"
        assert f"Listening at: http://127.0.0.1:{port}" in launcher.output  # gunicorn serves it
        assert served_by(address) == "gunicorn"
        assert "demo-pass-2026" in launcher.output
        home = sign_in(address, "staff")
        assert "王科长" in home and "退出" in home
        assert "47" in home  # the published demo achievements on the home page
        assert worker_answers(tmp_path), "no Celery worker answered on the embedded Redis"
        assert (tmp_path / "matchmaker.db").exists()
    finally:
        code, alive = launcher.ctrl_c()
    assert code == 0, launcher.output[-3000:]
    assert alive == [], f"still running after Ctrl-C: {[p.name() for p in alive]}"
    assert "Traceback" not in launcher.output, launcher.output[-3000:]
    assert not (tmp_path / "redis.sock").exists()

    port = free_port()
    again = Launcher(clean_env(tmp_path, port))
    try:
        again.wait_for(r"open http://")
        assert '"achievements_added": 0' in again.output  # the seed found everything in place
        assert "陈总工" in sign_in(f"http://127.0.0.1:{port}", "enterprise")
    finally:
        code, alive = again.ctrl_c()
    assert code == 0 and alive == []


def run_briefly(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "matchmaker.launch"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def closed_port() -> int:
    return free_port()  # nothing listens once the probe socket is closed


def assert_one_line_failure(result: subprocess.CompletedProcess, expected: str) -> None:
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0
    assert len(output.splitlines()) == 1, output
    assert expected in output and "Traceback" not in output


def test_unreachable_database_is_reported_in_one_line(tmp_path):
    url = f"postgresql://postgres@127.0.0.1:{closed_port()}/matchmaker"
    result = run_briefly(clean_env(tmp_path, free_port(), DATABASE_URL=url))
    assert_one_line_failure(result, "cannot reach the database at DATABASE_URL")


def test_unreachable_redis_is_reported_in_one_line(tmp_path):
    url = f"redis://127.0.0.1:{closed_port()}/0"
    result = run_briefly(clean_env(tmp_path, free_port(), REDIS_URL=url))
    assert_one_line_failure(result, "cannot reach Redis at REDIS_URL")


def test_a_port_in_use_is_reported_in_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = run_briefly(clean_env(tmp_path, busy.getsockname()[1]))
    assert_one_line_failure(result, "already in use")


@pytest.mark.slow
def test_a_crashed_worker_is_restarted_while_the_web_app_keeps_serving(tmp_path):
    port = free_port()
    launcher = Launcher(clean_env(tmp_path, port))
    try:
        address = launcher.wait_for(r"open (http://127\.0\.0\.1:\d+)").group(1)
        assert worker_answers(tmp_path)
        (first,) = worker_processes(launcher)
        pool = first.children(recursive=True)
        first.kill()  # the worker's main process dies, as in issue 17 finding 10
        launcher.wait_for(r"the Celery worker stopped .* restarting it in 1 s", seconds=30)
        assert "陈总工" in sign_in(address, "enterprise")  # the web app still serves
        launcher.wait_for(r"Celery worker restarted", seconds=30)
        assert worker_answers(tmp_path, seconds=90), "no worker answered after the restart"
        (second,) = worker_processes(launcher)
        assert second.pid != first.pid
        _, left = psutil.wait_procs(pool, timeout=10)
        assert left == [], "the crashed worker's pool processes were left running"

        second.kill()  # crashing again soon after waits longer
        launcher.wait_for(r"restarting it in 2 s", seconds=30)
        deadline = time.monotonic() + 30
        while launcher.output.count("Celery worker restarted") < 2:
            assert time.monotonic() < deadline, launcher.output[-3000:]
            time.sleep(0.2)
        assert launcher.proc.poll() is None
        assert "a process stopped unexpectedly" not in launcher.output
    finally:
        code, alive = launcher.ctrl_c()
    assert code == 0, launcher.output[-3000:]
    assert alive == [], f"still running after Ctrl-C: {[p.name() for p in alive]}"


def test_production_without_secret_key_is_refused_in_one_line(tmp_path):
    result = run_briefly(clean_env(tmp_path, free_port(), MATCHMAKER_ENV="production"))
    assert_one_line_failure(result, "SECRET_KEY is not set")
