"""Read-outs of the current suggestions: the JSONL export and the first-run check."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from matchmaker.core.extensions import db
from matchmaker.listings.models import Achievement, Need
from matchmaker.pairs.models import Suggestion


def current_rows():
    """Yield every active suggestion as the export's plain dict, ordered by pair."""
    need, achievement = aliased(Need), aliased(Achievement)
    query = (
        select(
            Suggestion.need_id,
            Suggestion.achievement_id,
            need.external_ref,
            achievement.external_ref,
            Suggestion.score,
            Suggestion.need_rank,
            Suggestion.achievement_rank,
            Suggestion.model_version,
            Suggestion.cross_field,
        )
        .join(need, need.id == Suggestion.need_id)
        .join(achievement, achievement.id == Suggestion.achievement_id)
        .where(Suggestion.active.is_(True))
        .order_by(Suggestion.need_id, Suggestion.achievement_id)
        .execution_options(yield_per=5000)
    )
    for row in db.session.execute(query):
        yield {
            "need_id": row[0],
            "achievement_id": row[1],
            "need_ref": row[2],
            "achievement_ref": row[3],
            "score": row[4],
            "need_rank": row[5],
            "achievement_rank": row[6],
            "model_version": row[7],
            "cross_field": row[8],
        }


def write_jsonl(path: Path) -> int:
    """Write the current suggestions to a JSONL file (atomically); return how many."""
    partial = Path(f"{path}.part")
    count = 0
    with open(partial, "w", encoding="utf-8") as handle:
        for item in current_rows():
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")
            count += 1
    partial.replace(path)
    return count


def needs_first_rematch() -> bool:
    """True when listings are published on both sides but the matcher has suggested nothing yet
    (pairs brokers proposed, like the demo's worked pairs, do not count)."""
    has = lambda model: db.session.scalar(  # noqa: E731
        select(exists().where(model.status == "published"))
    )
    matched = exists().where(Suggestion.source != "broker")
    return has(Need) and has(Achievement) and not db.session.scalar(select(matched))
