"""Incremental match: a published or edited listing is scored against every published partner.

Publishing raises `listing_published`; the receiver records a small run (kind 'incremental', one
chunk naming the listing) and queues it. The task ranks the other side with `match_listing`: the
listings of the last full fit plus those published since (`extra_candidates`), on the same scale
as a full run, so two listings published after the fit find each other without a rematch.
Withdrawing a listing retires its untouched suggestions at once.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select, update

from matchmaker.core.db import utcnow
from matchmaker.core.extensions import db
from matchmaker.runs import full_match as runs
from matchmaker.runs import inputs as inputs_service
from matchmaker.runs import model_store
from matchmaker.runs import suggestions as store
from matchmaker.runs.models import MatchChunk, MatchRun

log = logging.getLogger(__name__)
KINDS = ("need", "achievement")


def queue_listing_match(kind: str, listing_id: int) -> int | None:
    """Record and queue an incremental run for one listing; None when there is no model yet."""
    if kind not in KINDS:
        raise ValueError(f"kind must be need or achievement, not {kind!r}")
    version = model_store.current_version()
    if not version:
        return None  # nothing to score against until the first full rematch
    now = utcnow()
    run = MatchRun(
        kind="incremental",
        status="queued",
        model_version=version,
        heartbeat_at=now,
        created_at=now,
        chunks_total=1,
        needs=int(kind == "need"),
        achievements=int(kind == "achievement"),
    )
    db.session.add(run)
    db.session.flush()
    chunk = MatchChunk(run_id=run.id, direction=kind, position=0, listing_ids=[listing_id])
    db.session.add(chunk)
    db.session.commit()
    try:
        runs.send("match_listing", chunk.id)
    except Exception as exc:  # noqa: BLE001 - publishing must not fail because Redis is down
        log.warning("could not queue the incremental match of %s %s: %s", kind, listing_id, exc)
        runs.fail_run(run.id, f"无法把增量匹配发送到队列（Redis）：{exc}")
    return run.id


def match_listing(chunk_id: int) -> str:
    """Score the chunk's one listing against the current model and write its suggestions."""
    chunk = db.session.get(MatchChunk, chunk_id)
    if chunk is None:
        return "missing"
    run = db.session.get(MatchRun, chunk.run_id)
    if run.status not in runs.ACTIVE or chunk.status == "done":
        db.session.rollback()
        return "skipped"
    run.status, run.started_at, run.heartbeat_at = "running", run.started_at or utcnow(), utcnow()
    run.attempts += 1
    chunk.attempts += 1
    kind, listing_id, run_id = chunk.direction, chunk.listing_ids[0], run.id
    db.session.commit()

    version, matcher = model_store.current_matcher()
    if matcher is None:
        runs.fail_run(run_id, "尚无可用的匹配模型，请先运行一次全量匹配")
        return "failed"
    row, listing = inputs_service.listing_for(kind, listing_id)
    matches, tokens = [], None
    if listing is not None:
        from dataclasses import replace

        from matchmaker.matching import listing_tokens

        tokens = (row.revision, listing_tokens(listing, matcher.config))
        matches = matcher.match_listing(
            replace(listing, tokens=tuple(tokens[1])),
            kind=kind,
            top_k=runs._cfg("MATCH_TOP_K"),
            extra_candidates=_published_since_fit(version, kind),
        )
        matches = _still_published(matches, kind)
    db.session.rollback()  # nothing of this read is written through the ORM
    written = _write(chunk_id, run_id, kind, listing_id, matches, version, tokens)
    return "written" if written else "skipped"


def _still_published(matches: list, kind: str) -> list:
    """Drop partners withdrawn or closed since the fit; rank the rest 1, 2, ... again."""
    other = "achievement" if kind == "need" else "need"
    model = inputs_service.MODELS[other][0]
    ids = [getattr(m, f"{other}_id") for m in matches]
    published = set(
        db.session.scalars(select(model.id).where(model.id.in_(ids), model.status == "published"))
    )
    kept = [m for m in matches if getattr(m, f"{other}_id") in published]
    for rank, match in enumerate(kept, start=1):
        setattr(match, f"{kind}_rank", rank)
    return kept


def _published_since_fit(version: str, kind: str) -> list:
    """The other side's listings published or edited since the model's fit."""
    other = "achievement" if kind == "need" else "need"
    # Every run that used this version loaded the same listings; the first started earliest.
    fitted_at = db.session.scalar(
        select(func.min(MatchRun.created_at)).where(
            MatchRun.model_version == version, MatchRun.kind.in_(("full", "rebuild"))
        )
    )
    return inputs_service.published_since(other, fitted_at)


def _write(chunk_id, run_id, kind, listing_id, matches, version, tokens) -> bool:
    done = db.session.execute(
        update(MatchChunk)
        .where(MatchChunk.id == chunk_id, MatchChunk.status != "done")
        .values(status="done", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not done.rowcount:
        db.session.rollback()
        return False
    other = "achievement_id" if kind == "need" else "need_id"
    store.upsert_matches(matches, kind, run_id, version, incremental=True)
    store.retire_for_listing(kind, listing_id, keep_ids=[getattr(m, other) for m in matches])
    if tokens is not None:
        inputs_service.write_tokens({kind: [(listing_id, tokens[0], tokens[1])]})
    now = utcnow()
    db.session.execute(
        update(MatchRun)
        .where(MatchRun.id == run_id)
        .values(
            status="succeeded",
            chunks_done=1,
            suggestions=len(matches),
            finished_at=now,
            heartbeat_at=now,
            model_version=version,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return True


def on_listing_published(sender, listing_id: int, **_) -> None:
    try:
        queue_listing_match(sender, int(listing_id))
    except Exception:  # noqa: BLE001 - a failed queue must not break the publisher's request
        db.session.rollback()
        log.exception("incremental match of %s %s was not queued", sender, listing_id)


def on_listing_withdrawn(sender, listing_id: int, **_) -> None:
    if sender in KINDS:
        store.retire_for_listing(sender, int(listing_id))
        db.session.commit()
