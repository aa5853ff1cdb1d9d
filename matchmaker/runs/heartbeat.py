"""A run's heartbeat: the time its worker last showed life, which the reconciler reads.

Planning a large run (loading, fitting, the feedback pass) can take longer than a run may stay
silent before the reconciler takes it for dead and plans it again; a thread beats meanwhile.
A killed worker takes the thread with it, so a lost run still goes stale.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import update

from matchmaker.core.db import utcnow
from matchmaker.core.extensions import db
from matchmaker.runs.models import RUN_ACTIVE, MatchRun

log = logging.getLogger(__name__)


def beat(run_id: int) -> None:
    """Record that the run's worker is alive (only while the run is active); commits."""
    db.session.execute(
        update(MatchRun)
        .where(MatchRun.id == run_id, MatchRun.status.in_(RUN_ACTIVE))
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


@contextmanager
def beating(run_id: int, every: float):
    """Beat from a background thread, with its own session, every `every` seconds of the block."""
    app = current_app._get_current_object()
    done = threading.Event()

    def loop() -> None:
        with app.app_context():
            try:
                while not done.wait(every):
                    try:
                        beat(run_id)
                    except Exception as exc:  # noqa: BLE001 - the next beat tries again
                        db.session.rollback()
                        log.warning("heartbeat of run %s failed: %s", run_id, exc)
            finally:
                db.session.remove()

    thread = threading.Thread(target=loop, name=f"run-{run_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=every + 10)
