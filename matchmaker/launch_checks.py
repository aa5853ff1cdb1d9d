"""What `make run` asks before and while it starts: does a configured server answer, is the port
free, have the web app and a worker come up."""

import http.client
import socket
import subprocess
import time


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


def port_in_use(port: int) -> bool:
    """True when something already listens on 127.0.0.1:port."""
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for_http(port: int, children: list[subprocess.Popen], seconds: float = 60) -> bool:
    """Wait until the web app answers, so the address is printed only once it works."""
    # http.client rather than urllib: a proxy set in the environment must not get in the way.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and all(c.poll() is None for c in children):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return True
        except OSError:
            time.sleep(0.3)
        finally:
            connection.close()
    return False


def wait_for_worker(broker_url: str, children: list[subprocess.Popen], seconds: float = 60) -> bool:
    """Wait until a Celery worker answers a ping through the broker."""
    from celery import Celery

    app = Celery(broker=broker_url)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and all(c.poll() is None for c in children):
            if app.control.ping(timeout=1):
                return True
        return False
    finally:
        app.close()
