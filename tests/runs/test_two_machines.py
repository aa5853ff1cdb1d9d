"""Two machines on one host: two gunicorn web processes and two Celery workers, each with its own
instance/ directory and MODEL_DIR (no shared disk), against one PostgreSQL and one Redis.

A full rematch at fair scale (1,239 achievements x 1,302 needs from ../shared/data) runs on both
workers, the one that did not plan loading the model from the database's model store, and its
export equals a one-machine run; a user who signs in through web process 1 is signed in on web
process 2.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
import redis
from sqlalchemy import delete, func, select

from matchmaker.core.extensions import db
from matchmaker.pairs.models import Suggestion
from matchmaker.runs import export as matching_export
from matchmaker.runs import full_match as matching_runs
from matchmaker.runs import model_store
from matchmaker.runs.models import MatchChunk, StoredModel
from tests.conftest import PASSWORD, using_postgres
from tests.jobs_faults import ROOT, Worker, free_port
from tests.jobs_helpers import RecordingQueue

SHARED = Path(os.environ.get("MATCHMAKER_SHARED_DATA", ROOT / ".." / "shared" / "data"))
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not using_postgres(), reason="needs TEST_DATABASE_URL=postgresql://..."),
    pytest.mark.skipif(not (SHARED / "corpus").is_dir(), reason=f"no shared data at {SHARED}"),
]
CHUNK = 100


def fair_scale_files(tmp_path: Path) -> tuple[Path, Path]:
    from tests.bench.common import fair_listings, write_jsonl

    achievements, needs = fair_listings()
    orgs = [f"测试成果单位{i}" for i in range(40)], [f"测试需求单位{i}" for i in range(40)]
    for i, row in enumerate(achievements):
        row["org"] = orgs[0][i % 40]
    for i, row in enumerate(needs):
        row["org"] = orgs[1][i % 40]
    a, n = tmp_path / "achievements.jsonl", tmp_path / "needs.jsonl"
    write_jsonl(a, achievements)
    write_jsonl(n, needs)
    return a, n


class Machine:
    """One machine's environment: its own instance/ (and so its own MODEL_DIR)."""

    def __init__(self, tmp_path: Path, name: str, database_url: str, redis_url: str):
        self.name = name
        self.instance = tmp_path / name / "instance"
        self.instance.mkdir(parents=True)
        self.env = dict(os.environ)
        self.env.update(
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            MATCHMAKER_INSTANCE=str(self.instance),
            SECRET_KEY="two-machines-secret",  # the one thing the web processes must share
            MATCH_CHUNK_SIZE=str(CHUNK),
        )
        self.env.pop("MATCHMAKER_ENV", None)  # production settings
        self.processes: list[subprocess.Popen] = []
        self.port = None

    def start_worker(self) -> Worker:
        worker = Worker(self.env, self.instance / "worker.log", f"{self.name}-worker").start()
        self.processes.append(worker.proc)
        return worker

    def start_web(self) -> None:
        self.port = free_port()
        with open(self.instance / "web.log", "ab") as log:
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}"]
                    + ["--workers", "1", "--threads", "2", "--timeout", "60", "wsgi:app"],
                    cwd=ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, 9)
                except ProcessLookupError:
                    pass
                proc.wait(10)


def request(url: str, cookies: dict, data: dict | None = None):
    """One HTTP request without following redirects; returns (status, body, cookies after)."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body)
    if cookies:
        # Set by hand: the cookies are Secure (production settings) and this is plain http.
        req.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()))

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        response = opener.open(req, timeout=30)
        status, headers, text = response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as e:
        status, headers, text = e.code, e.headers, e.read().decode()
    jar = dict(cookies)
    for header in headers.get_all("Set-Cookie") or []:
        for key, morsel in SimpleCookie(header).items():
            jar[key] = morsel.value
    return status, text, jar


def wait_for(condition, seconds: float, what: str, logs=()) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.3)
    tails = "\n".join(p.read_text()[-2000:] for p in logs if p.exists())
    raise AssertionError(f"timed out waiting for {what}\n{tails}")


def one_machine_export(monkeypatch) -> list[dict]:
    """The same rematch run in this process alone; then forget its pairs and stored model."""
    queue = RecordingQueue()
    with monkeypatch.context() as patch:
        patch.setattr(matching_runs, "send", queue)
        run = matching_runs.start_rematch()
        queue.drain()
    assert matching_runs.status(run.id)["status"] == "succeeded"
    rows = list(matching_export.current_rows())
    db.session.execute(delete(Suggestion))
    db.session.execute(delete(StoredModel))  # the two machines must fit and share their own
    db.session.commit()
    model_store._cache.clear()
    return rows


def test_two_web_and_two_worker_machines_give_the_one_machine_export_and_share_sessions(
    app, runner, tmp_path, make_user, monkeypatch
):
    achievements, needs = fair_scale_files(tmp_path)
    loaded = runner.invoke(
        args=["demo", "load", "--achievements", str(achievements), "--needs", str(needs)]
    )
    assert loaded.exit_code == 0, loaded.output
    assert '"achievements_added": 1239' in loaded.output and '"needs_added": 1302' in loaded.output
    app.config["MATCH_CHUNK_SIZE"] = CHUNK
    expected = one_machine_export(monkeypatch)
    assert len(expected) > 10000
    staff = make_user("staff", login="two-machines-staff")

    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    redis_url = app.config["REDIS_URL"]
    redis.Redis.from_url(redis_url).flushdb()
    machines = [Machine(tmp_path, f"machine{n}", database_url, redis_url) for n in (1, 2)]
    logs = [m.instance / f for m in machines for f in ("worker.log", "web.log")]
    try:
        for machine in machines:
            machine.start_worker()
            machine.start_web()
        for machine in machines:
            wait_for(
                lambda m=machine: request(m.url("/auth/login"), {})[0] == 200,
                60,
                f"{machine.name}'s web process",
                logs,
            )

        # a session started on web process 1 is a session on web process 2
        web1, web2 = machines[0], machines[1]
        status, page, jar = request(web1.url("/auth/login"), {})
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        status, _, jar = request(
            web1.url("/auth/login"),
            jar,
            {"csrf_token": token, "login": staff.login, "password": PASSWORD},
        )
        assert status == 302
        status, body, _ = request(web2.url("/api/v1/me"), jar)
        assert status == 200 and json.loads(body)["login"] == staff.login
        assert request(web2.url("/api/v1/me"), {})[0] == 401

        # a full rematch spread over both workers
        wait_for(
            lambda: all("ready." in (m.instance / "worker.log").read_text() for m in machines),
            90,
            "both workers",
            logs,
        )
        run = matching_runs.start_rematch()
        wait_for(
            lambda: matching_runs.status(run.id)["status"] in ("succeeded", "failed"),
            600,
            f"run {run.id}",
            logs,
        )
        info = matching_runs.status(run.id)
        assert info["status"] == "succeeded", info
        assert list(matching_export.current_rows()) == expected
    finally:
        for machine in machines:
            machine.stop()

    worker_logs = [(m.instance / "worker.log").read_text() for m in machines]
    assert all("run_chunk" in log and "succeeded" in log for log in worker_logs), "one was idle"
    assert not any("模型文件不存在" in log for log in worker_logs)
    for machine in machines:  # each fitted or fetched the model into its own MODEL_DIR
        assert list((machine.instance / "models").glob("*.joblib")), machine.name
    assert db.session.scalar(select(func.count()).select_from(StoredModel)) == 1
    errors = db.session.scalars(select(MatchChunk.error).where(MatchChunk.run_id == run.id)).all()
    assert errors == [""] * info["chunks_total"]
