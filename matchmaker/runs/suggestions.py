"""Idempotent writes of the matcher's pairs into suggestions, keyed by (need_id, achievement_id).

Only untouched pairs change: a pair a broker worked (state other than 'suggested', any pair
event, or created by a broker) keeps its row as it is. These functions run inside the caller's
transaction and never commit; the run services commit them together with the chunk's status.

A full run writes each pair from up to two chunks (the need's and the achievement's). The
need-side score wins, as in Matcher.rank(); the other side only adds its rank. Whichever chunk
comes first, and however often a chunk is delivered, the row ends up the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    Integer,
    Text,
    and_,
    bindparam,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from matchmaker.core.db import utcnow
from matchmaker.core.extensions import db
from matchmaker.pairs.models import PairEvent, Suggestion
from matchmaker.pairs.states import PairState

_BATCH = 1000
S = Suggestion.__table__


def untouched():
    """SQL condition: the matcher may still rewrite or retire this pair."""
    return and_(
        S.c.state == PairState.SUGGESTED,
        S.c.source == "matcher",
        not_(exists().where(PairEvent.__table__.c.suggestion_id == S.c.id)),
    )


def _insert():
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(S)
    if dialect == "sqlite":
        return sqlite.insert(S)
    raise RuntimeError(f"upsert is not implemented for {dialect}")


def upsert_matches(
    matches: Iterable, direction: str, run_id: int, model_version: str, incremental: bool = False
) -> int:
    """Write pairs ranked from one side ('need' or 'achievement'); return how many were sent."""
    now = utcnow()
    rows = [
        {
            "need_id": int(m.need_id),
            "achievement_id": int(m.achievement_id),
            "score": round(float(m.score), 6),
            "need_rank": m.need_rank if direction == "need" else None,
            "achievement_rank": m.achievement_rank if direction == "achievement" else None,
            "terms": [[t, float(s)] for t, s in m.terms],
            "same_field": bool(m.same_field),
            "cross_field": bool(m.cross_field),
            "model_version": model_version,
            "run_id": run_id,
            "active": True,
            "source": "matcher",
            "state": PairState.SUGGESTED,
            "created_at": now,
            "updated_at": now,
            "state_changed_at": now,
            "lock_version": 1,
        }
        for m in matches
    ]
    # One lock order for every writer, so two chunks writing shared pairs cannot deadlock.
    rows.sort(key=lambda r: (r["need_id"], r["achievement_id"]))
    if not rows:
        return 0
    if db.session.get_bind().dialect.name == "postgresql":
        return _upsert_postgres(rows, direction, run_id, model_version, incremental, now)
    stmt = _insert()
    stmt = stmt.on_conflict_do_update(
        index_elements=[S.c.need_id, S.c.achievement_id],
        set_=_update_set(stmt.excluded, direction, run_id, incremental, now),
        where=untouched(),
    )
    # executemany: compiled once; psycopg pipelines the rows instead of one round trip each
    # (a multi-row VALUES of thousands of parameters costs more to build and parse).
    connection = db.session.connection()
    for start in range(0, len(rows), _BATCH):
        connection.execute(stmt, rows[start : start + _BATCH])
    return len(rows)


# The suggestion columns that travel as one array each to PostgreSQL, with their element types.
_ARRAYS = {
    "need_id": Integer,
    "achievement_id": Integer,
    "score": Float,
    "need_rank": Integer,
    "achievement_rank": Integer,
    "terms": Text,
    "same_field": Boolean,
    "cross_field": Boolean,
}


def _upsert_postgres(rows, direction, run_id, model_version, incremental, now) -> int:
    """One statement per batch: the pairs travel as arrays and are unnested server-side."""
    stmt = _insert_unnested(run_id, model_version, now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[S.c.need_id, S.c.achievement_id],
        set_=_update_set(stmt.excluded, direction, run_id, incremental, now),
        where=untouched(),
    )
    connection = db.session.connection()
    for start in range(0, len(rows), 5000):
        batch = rows[start : start + 5000]
        params = {f"p_{name}": [r[name] for r in batch] for name in _ARRAYS}
        params["p_terms"] = [json.dumps(r["terms"], ensure_ascii=False) for r in batch]
        connection.execute(stmt, params)
    return len(rows)


def _insert_unnested(run_id, model_version, now):
    """INSERT ... SELECT FROM unnest(the arrays), with the values every new pair starts with."""
    source = (
        func.unnest(
            *[
                bindparam(f"p_{name}", type_=postgresql.ARRAY(kind))
                for name, kind in _ARRAYS.items()
            ]
        )
        .table_valued(*_ARRAYS)
        .render_derived()
    )
    c = source.c
    return postgresql.insert(S).from_select(
        [
            *_ARRAYS,
            "model_version",
            "run_id",
            "active",
            "source",
            "state",
            "created_at",
            "updated_at",
            "state_changed_at",
            "lock_version",
        ],
        select(
            c.need_id,
            c.achievement_id,
            c.score,
            c.need_rank,
            c.achievement_rank,
            cast(c.terms, JSON),
            c.same_field,
            c.cross_field,
            literal(model_version),
            literal(run_id),
            true(),
            literal("matcher"),
            literal(PairState.SUGGESTED.value),
            literal(now),
            literal(now),
            literal(now),
            literal(1),
        ),
    )


def _update_set(new, direction: str, run_id: int, incremental: bool, now: datetime) -> dict:
    same_run = S.c.run_id == run_id
    values = {
        "model_version": new.model_version,
        "run_id": run_id,
        "active": true(),
        "updated_at": now,
    }
    if direction == "need":
        values.update(
            score=new.score,
            need_rank=new.need_rank,
            terms=new.terms,
            same_field=new.same_field,
            cross_field=new.cross_field,
        )
        # A pair from an earlier run loses its stale achievement-side rank; within this run
        # the achievement chunk may already have written it.
        if not incremental:
            values["achievement_rank"] = case((same_run, S.c.achievement_rank), else_=None)
        return values
    need_side_wrote = and_(same_run, S.c.need_rank.is_not(None))
    values.update(
        achievement_rank=new.achievement_rank,
        score=case((need_side_wrote, S.c.score), else_=new.score),
        terms=case((need_side_wrote, S.c.terms), else_=new.terms),
        same_field=case((need_side_wrote, S.c.same_field), else_=new.same_field),
        cross_field=case((need_side_wrote, S.c.cross_field), else_=new.cross_field),
    )
    if not incremental:
        values["need_rank"] = case((same_run, S.c.need_rank), else_=None)
    return values


def retire_unranked(run_id: int, started_at: datetime) -> int:
    """Retire untouched active pairs that this full run did not rank (and nobody wrote since)."""
    result = db.session.execute(
        update(S)
        .where(
            S.c.active.is_(True),
            or_(S.c.run_id.is_(None), S.c.run_id != run_id),
            S.c.updated_at < started_at,
            untouched(),
        )
        .values(active=false(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def retire_for_listing(kind: str, listing_id: int, keep_ids: Iterable[int] = ()) -> int:
    """Retire a listing's untouched active pairs except those with the given other-side ids."""
    own, other = (
        (S.c.need_id, S.c.achievement_id) if kind == "need" else (S.c.achievement_id, S.c.need_id)
    )
    keep = [int(x) for x in keep_ids]
    condition = [own == listing_id, S.c.active.is_(True), untouched()]
    if keep:
        condition.append(other.not_in(keep))
    result = db.session.execute(
        update(S)
        .where(*condition)
        .values(active=false(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def count_for_run(run_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(S).where(S.c.run_id == run_id, S.c.active.is_(True))
        )
        or 0
    )
