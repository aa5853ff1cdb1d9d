"""Pessimistic disconnect handling that costs a round trip only after a connection sat idle.

SQLAlchemy's `pool_pre_ping` pings on every checkout: about 1 ms of CPU on every page (bench_web,
interleaved in-process runs), for connections that were in use a few milliseconds earlier. A
database restart or a dropped connection happens while a connection waits in the pool, so a
connection idle for less than `idle_seconds` is handed out as it is and one idle for longer is
pinged first; a dead one is replaced before the request sees it.
"""

from functools import cache
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


@cache
def lazy_description_cursor():
    """psycopg's cursor class with a `description` built only when something reads it.

    SQLAlchemy asks every result for `cursor.description` but, for a statement it compiled
    before, reads nothing in it (the result's columns are cached with the compiled statement).
    psycopg builds a Column object per column on every ask: about 8 % of a web worker's CPU under
    bench_web (py-spy), most of it for the wide joined rows of listing and pair pages. One class
    for every app a process makes.
    """
    from collections.abc import Sequence

    import psycopg
    from psycopg.pq import ExecStatus

    returns_rows = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)
    columns_of = psycopg.Cursor.description.fget

    class Description(Sequence):
        # Built from the result it was asked for: SQLAlchemy reads it, if at all, before the
        # cursor runs anything else.
        __slots__ = ("_cursor", "_size", "_columns")

        def __init__(self, cursor, size: int):
            self._cursor, self._size, self._columns = cursor, size, None

        def __len__(self) -> int:
            return self._size

        def __getitem__(self, index):
            if self._columns is None:
                self._columns = columns_of(self._cursor)
            return self._columns[index]

    class Cursor(psycopg.Cursor):
        @property
        def description(self):
            result = self.pgresult
            if result and (result.nfields or result.status in returns_rows):
                return Description(self, result.nfields)
            return None

    return Cursor
