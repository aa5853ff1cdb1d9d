"""The nightly catch-up: published listings whose current text no match has seen get matched.

A listing's `tokens_revision` equals its `revision` once a full run's plan or an incremental match
has read its current text. A listing published or edited since the last fit whose incremental
match never ran (the broker was down at publish time, the task was lost) still differs, and the
catch-up queues an incremental match for it. Listings with an incremental run in progress are
left to it, so running the catch-up twice queues nothing twice.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from matchmaker.core.extensions import db
from matchmaker.listings.models import Achievement, Need
from matchmaker.runs import incremental as matching_incremental
from matchmaker.runs import model_store
from matchmaker.runs.models import RUN_ACTIVE, MatchChunk, MatchRun

MODELS = {"need": Need, "achievement": Achievement}


def unmatched_listings(limit: int = 5000) -> list[tuple[str, int]]:
    """(kind, id) of published listings whose current revision no match has read."""
    pending = _in_progress()
    found = []
    for kind, model in MODELS.items():
        ids = db.session.scalars(
            select(model.id)
            .where(
                model.status == "published",
                or_(model.tokens_revision.is_(None), model.tokens_revision != model.revision),
            )
            .order_by(model.id)
            .limit(limit)
        )
        found += [(kind, i) for i in ids if (kind, i) not in pending]
    return found


def _in_progress() -> set[tuple[str, int]]:
    rows = db.session.execute(
        select(MatchChunk.direction, MatchChunk.listing_ids)
        .join(MatchRun, MatchRun.id == MatchChunk.run_id)
        .where(MatchRun.kind == "incremental", MatchRun.status.in_(RUN_ACTIVE))
    )
    return {(direction, i) for direction, ids in rows for i in ids}


def catch_up(limit: int = 5000) -> dict:
    """Queue an incremental match for each listing the matcher has not seen; commits."""
    if not model_store.current_version():
        return {"queued": 0, "reason": "no model yet: the first full rematch matches everything"}
    queued = 0
    for kind, listing_id in unmatched_listings(limit):
        if matching_incremental.queue_listing_match(kind, listing_id):
            queued += 1
    return {"queued": queued}
