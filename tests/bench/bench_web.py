"""Load benchmark: gunicorn (gunicorn.conf.py) beside the development server, same run, same data.

Run from the project root:
    python -m tests.bench.bench_web [--rows 100000] [--clients 50] [--seconds 60] [--warmup 5]
                                    [--database-url postgresql://.../db [--in-place]]

It builds 100,000 achievements with bench_search's corpus loader (a scratch database next to
--database-url, dropped afterwards; a SQLite file without it), adds one broker, one need and a
pair, and starts each server on loopback in turn. With --in-place it uses --database-url itself
and builds only when it has no achievements table yet (the build takes minutes; keep the database to
measure again). CLIENTS threads, each with its own keep-alive
connection, then loop for SECONDS over a logged-in listing search, the pair page and the API list
of achievements (bearer token). It prints requests/s, p50/p95/p99 and errors for each server.
The client threads share the machine's cores with the server: figures are for this machine.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psutil  # noqa: E402
import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from tests.bench.bench_search import build, scratch_database  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "bench-web-pass-2026"
SECRET_KEY = "bench-web-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def add_broker_and_pair(app) -> tuple[str, int]:
    """A broker covering every field, a need, a pair with the 2nd achievement; its API token."""
    from matchmaker.accounts.models import Organization, User
    from matchmaker.accounts.users import create_user, issue_token
    from matchmaker.core.extensions import db
    from matchmaker.listings.models import Achievement, Need
    from matchmaker.listings.taxonomy import all_fields
    from matchmaker.pairs.models import Suggestion

    broker = db.session.scalar(sa.select(User).where(User.login == "bench-broker"))
    if broker is not None:  # --in-place, measured before: the same broker and pair again
        pair = db.session.scalar(sa.select(Suggestion).where(Suggestion.broker_id == broker.id))
        return issue_token("bench-broker"), pair.id
    fields = all_fields()
    broker = create_user("bench-broker", PASSWORD, "broker", None, display_name="压测经纪人")
    broker.fields = list(fields)
    # bench_search inserts organizations with explicit ids, so PostgreSQL's sequence is behind.
    next_id = db.session.scalar(sa.select(sa.func.max(Organization.id))) + 1
    company = Organization(id=next_id, name="压测企业", kind="enterprise", status="approved")
    need = Need(
        title="焊接机器人视觉引导",
        description="需要一套焊缝跟踪与视觉引导系统，用于中厚板机器人焊接。",
        keywords=["焊接", "机器人", "视觉"],
        status="published",
        organization=company,
    )
    need.fields = [fields[0]]
    db.session.add_all([company, need])
    db.session.flush()
    pair = Suggestion(
        need=need,
        achievement=db.session.get(Achievement, 2),
        score=0.8,
        terms=[["焊缝", 0.6], ["机器人", 0.4]],
        broker_id=broker.id,
    )
    db.session.add(pair)
    db.session.commit()
    return issue_token("bench-broker"), pair.id


class Server:
    """A web server process on loopback; stopped by stop()."""

    def __init__(self, name: str, command: list[str], env: dict, port: int, log: Path):
        self.name, self.port = name, port
        self.base = f"http://127.0.0.1:{port}"
        self.log = open(log, "w+")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if requests.get(f"{self.base}/healthz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.3)
        self.log.seek(0)
        sys.exit(f"{self.name} did not start:\n{self.log.read()[-3000:]}")

    def cpu_seconds(self) -> float:
        """CPU time the server has used: its processes, and its workers that have exited."""
        main = psutil.Process(self.proc.pid)
        total = sum(main.cpu_times()[:4])  # user, system, and of children it reaped
        for child in main.children(recursive=True):
            try:
                total += sum(child.cpu_times()[:2])
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def gunicorn(env: dict, folder: Path) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py")]
    # No access log: 50 clients would write thousands of lines a second to a file.
    command += ["--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "wsgi:app"]
    server_env = {**env, "MATCHMAKER_ENV": "production", "SECRET_KEY": SECRET_KEY}
    return Server("gunicorn", command, server_env, port, folder / "gunicorn.log")


def development_server(env: dict, folder: Path) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port)]
    command += ["--host", "127.0.0.1", "--no-reload", "--no-debugger", "--with-threads"]
    server_env = {**env, "MATCHMAKER_ENV": "development", "SECRET_KEY": SECRET_KEY}
    return Server("flask run", command, server_env, port, folder / "flask-run.log")


def log_in(base: str) -> str:
    """Sign in through the form once; return the session cookie every client then sends."""
    # Cookies carried by hand: the production cookie is Secure and this is plain http.
    form = requests.get(f"{base}/auth/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    response = requests.post(
        f"{base}/auth/login",
        data={"csrf_token": token, "login": "bench-broker", "password": PASSWORD},
        headers={"Cookie": f"session={form.cookies['session']}"},
        allow_redirects=False,
        timeout=60,
    )
    if response.status_code != 302:
        sys.exit(f"login failed on {base}: {response.status_code}")
    return response.cookies["session"]


def load(base: str, targets: list[tuple[str, str, dict]], clients: int, seconds: float) -> dict:
    """CLIENTS threads loop over TARGETS for SECONDS; latencies (ms) per target, and errors.

    Each client is a bare http.client connection, kept alive while the server keeps it (threaded
    workers) and opened again when the server closes it (sync workers): the load generator
    shares the cores with the server, so it should cost as little CPU as it can.
    """
    latencies = {name: [] for name, _, _ in targets}
    errors: list[str] = []
    host, port = base.removeprefix("http://").split(":")
    targets = [(name, quote(path, safe="/?=&%"), headers) for name, path, headers in targets]
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()

    def client(offset: int) -> None:
        mine = {name: [] for name, _, _ in targets}
        failed = []
        connection = None
        i = offset
        while time.monotonic() < stop_at:
            name, path, headers = targets[i % len(targets)]
            i += 1
            started = time.perf_counter()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(host, int(port), timeout=30)
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failed.append(f"{name}: {response.status}")
                if response.will_close:
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException) as e:
                failed.append(f"{name}: {type(e).__name__}")
                if connection is not None:
                    connection.close()
                connection = None
            mine[name].append((time.perf_counter() - started) * 1000)
        if connection is not None:
            connection.close()
        with lock:
            for name, values in mine.items():
                latencies[name] += values
            errors.extend(failed)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    cpu_before = time.process_time()
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "latencies": latencies,
        "errors": errors,
        "seconds": time.monotonic() - started,
        "client_cpu": time.process_time() - cpu_before,
    }


def host_speed() -> float:
    """Seconds of CPU a fixed pure-Python loop takes now. The host's speed drifts (seen: 0.70 to
    1.12 s for this loop within an hour), so the figures are printed beside it."""
    started = time.process_time()
    sum(i * i for i in range(10**7))
    return time.process_time() - started


def database_cpu_seconds() -> float:
    """CPU time of the local PostgreSQL server's processes (0 where they cannot be read), with
    that of the backends that have exited (the postmaster's reaped children): a server whose
    pool opens and closes connections under load leaves no backend to read afterwards."""
    total = 0.0
    for process in psutil.process_iter(["name", "cpu_times"]):
        times = process.info["cpu_times"]
        if times and (process.info["name"] or "").startswith("postgres"):
            total += sum(times[:4])  # user, system, and of children it reaped
    return total


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report(name: str, result: dict) -> None:
    everything = [v for values in result["latencies"].values() for v in values]
    rate = len(everything) / result["seconds"]
    print(
        f"{name:<28}{len(everything):>8}{rate:>9.1f}{percentile(everything, 50):>9.0f}"
        f"{percentile(everything, 95):>9.0f}{percentile(everything, 99):>9.0f}"
        f"{len(result['errors']):>8}"
    )
    # The server's own CPU per request, whatever else the machine runs, and the database's.
    per_request = 1000 / max(1, len(everything))
    print(
        f"  server CPU {result['cpu'] * per_request:.1f} ms per request, "
        f"load generator {result['client_cpu'] * per_request:.1f} ms, "
        f"PostgreSQL {result['database_cpu'] * per_request:.1f} ms (if local)"
    )
    for target, values in result["latencies"].items():
        print(
            f"  {target:<26}{len(values):>8}{len(values) / result['seconds']:>9.1f}"
            f"{percentile(values, 50):>9.0f}{percentile(values, 95):>9.0f}"
            f"{percentile(values, 99):>9.0f}"
        )
    if result["errors"]:
        kinds = sorted(set(result["errors"]))
        print(f"  errors: {', '.join(kinds[:5])}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--warmup", type=float, default=5, help="seconds of load before measuring (not counted)"
    )
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="use --database-url itself (no scratch database); build only if it is empty",
    )
    parser.add_argument(
        "--gunicorn-only",
        action="store_true",
        help="skip the development server (comparing gunicorn settings)",
    )
    args = parser.parse_args()
    if not 1 <= args.clients <= 200 or not 0 < args.seconds <= 600 or not 0 <= args.warmup <= 60:
        sys.exit("--clients must be 1..200, --seconds at most 600 and --warmup at most 60")
    from config import TestConfig
    from matchmaker.app import create_app
    from matchmaker.core.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.in_place and args.database_url:
            url, drop = args.database_url, None
        else:
            url, drop = scratch_database(args.database_url, folder)
        config = TestConfig()
        config.SQLALCHEMY_DATABASE_URI = url
        config.INSTANCE_DIR = folder
        app = create_app(config)
        try:
            with app.app_context():
                print(f"database: {db.engine.dialect.name}, rows: {args.rows}")
                if not (drop is None and sa.inspect(db.engine).has_table("achievements")):
                    build(app, args.rows)
                token, pair_id = add_broker_and_pair(app)
                db.session.remove()
                db.engine.dispose()
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": str(folder),
                "LANG": "C.UTF-8",
                "MATCHMAKER_INSTANCE": str(folder),
                "DATABASE_URL": url,
                "REDIS_URL": TestConfig.REDIS_URL,
            }
            # gunicorn.conf.py reads these: WEB_CONCURRENCY=4 WEB_THREADS=4 python -m ...
            env.update(
                {
                    k: os.environ[k]
                    for k in ("WEB_CONCURRENCY", "WEB_THREADS", "GUNICORN_CMD_ARGS")
                    if k in os.environ
                }
            )
            cores = os.cpu_count()
            load_before = os.getloadavg()[0]
            print(
                f"{cores} cores, load average {load_before:.2f} before; {args.clients} clients, "
                f"{args.seconds:.0f} s per server; host speed {host_speed():.2f} s "
                "(a fixed Python loop: lower is faster)"
            )
            print(
                f"\n{'server / page':<28}{'requests':>8}{'req/s':>9}{'p50 ms':>9}"
                f"{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
            )
            results = {}
            servers = (gunicorn,) if args.gunicorn_only else (gunicorn, development_server)
            for start in servers:
                server = start(env, folder)
                try:
                    server.wait()
                    cookie = {"Cookie": f"session={log_in(server.base)}"}
                    targets = [
                        ("listing search", "/achievements/?q=机器人", cookie),
                        ("pair page", f"/pairs/{pair_id}", cookie),
                        (
                            "API list",
                            "/api/v1/achievements?q=材料",
                            {"Authorization": f"Bearer {token}"},
                        ),
                    ]
                    for name, path, headers in targets:  # warm caches, check every page works
                        response = requests.get(server.base + path, headers=headers, timeout=60)
                        if response.status_code != 200:
                            sys.exit(f"{server.name} {name}: {response.status_code}")
                    # Every worker has started, loaded jieba and compiled its templates.
                    load(server.base, targets, args.clients, args.warmup)
                    cpu, database_cpu = server.cpu_seconds(), database_cpu_seconds()
                    results[server.name] = load(server.base, targets, args.clients, args.seconds)
                    results[server.name]["cpu"] = server.cpu_seconds() - cpu
                    results[server.name]["database_cpu"] = database_cpu_seconds() - database_cpu
                finally:
                    server.stop()
                label = server.name
                if server.name == "gunicorn":
                    workers = os.environ.get("WEB_CONCURRENCY") or 2 * cores
                    threads = int(os.environ.get("WEB_THREADS") or 1)
                    label += f" ({workers}w × {threads}t)" if threads > 1 else f" ({workers} sync)"
                report(label, results[server.name])
            print(f"load average after: {os.getloadavg()[0]:.2f}; host speed {host_speed():.2f} s")
            g = results["gunicorn"]
            everything = [v for values in g["latencies"].values() for v in values]
            p99 = percentile(everything, 99)
            verdict = "meets" if p99 < 500 and not g["errors"] else "MISSES"
            print(
                f"gunicorn p99 {p99:.0f} ms, {len(g['errors'])} errors: {verdict} the target "
                "(p99 < 500 ms, no errors)"
            )
        finally:
            if drop:
                sa.orm.close_all_sessions()
                drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
