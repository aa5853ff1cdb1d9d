"""Pessimistic disconnect handling that costs a round trip only after a connection sat idle.

SQLAlchemy's `pool_pre_ping` pings on every checkout: about 1 ms of CPU on every page (bench_web,
interleaved in-process runs), for connections that were in use a few milliseconds earlier. A
database restart or a dropped connection happens while a connection waits in the pool, so a
connection idle for less than `idle_seconds` is handed out as it is and one idle for longer is
pinged first; a dead one is replaced before the request sees it.
"""

from time import monotonic

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection on checkout when it has been idle for idle_seconds or more."""

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record) -> None:
        record.info["idle_since"] = monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy) -> None:
        since = record.info.get("idle_since")
        if since is None or monotonic() - since < idle_seconds:
            return  # just opened, or back in the pool a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as e:
            # The pool discards this connection and checks out (or opens) another one.
            raise exc.DisconnectionError("pooled connection is gone") from e
