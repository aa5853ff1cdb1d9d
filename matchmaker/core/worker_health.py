"""Health of the job system: a real task through the broker to a worker and back."""

from __future__ import annotations

import secrets
import time

from flask import current_app


def check(timeout: float = 10.0) -> dict:
    """Send a ping task and wait for a worker's answer; return {"ok", "seconds", "message"}."""
    from celery.exceptions import TimeoutError as CeleryTimeout

    token = secrets.token_hex(8)
    started = time.monotonic()
    celery = current_app.extensions["celery"]
    try:
        result = celery.send_task("workers.tasks.ping", args=[token])
    except Exception as exc:  # noqa: BLE001 - any broker failure is the answer
        return _answer(False, started, f"任务队列（Redis）不可用：{exc}")
    try:
        answer = result.get(timeout=timeout, interval=0.05)
    except CeleryTimeout:
        return _answer(
            False, started, f"{timeout:g} 秒内没有工作进程响应，请检查 Celery worker 是否在运行"
        )
    except Exception as exc:  # noqa: BLE001
        return _answer(False, started, f"等待工作进程响应时出错：{exc}")
    finally:
        try:
            result.forget()
        except Exception:  # noqa: BLE001, S110 - the answer matters, not its cleanup
            pass
    if answer != token:
        return _answer(False, started, "工作进程的响应不正确")
    return _answer(True, started, "工作进程正常")


def _answer(ok: bool, started: float, message: str) -> dict:
    return {"ok": ok, "seconds": round(time.monotonic() - started, 3), "message": message}


def broker_reachable(timeout: float = 0.5) -> bool:
    """True when the broker accepts a connection within `timeout` seconds (no retries)."""
    celery = current_app.extensions["celery"]
    try:
        # The socket timeouts also cover a server that accepts and then never answers.
        options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
        connection = celery.connection_for_write(connect_timeout=timeout, transport_options=options)
        with connection as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_max=0, timeout=timeout)
            conn.default_channel.client.ping()  # redis: a socket that answers, not just opens
    except Exception:  # noqa: BLE001 - any failure to reach it is the answer
        return False
    return True
