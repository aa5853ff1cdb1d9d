"""How well a need and the achievements an application links fit: stored scores, or the model's."""

from sqlalchemy import func, select

from matchmaker.core.extensions import db
from matchmaker.listings.models import Achievement
from matchmaker.pairs.models import Suggestion


def linked_scores(need, achievement_ids: list[int]) -> dict[int, float | None]:
    """The matcher's score of the need against each linked achievement.

    A stored suggestion gives it; otherwise the current model ranks the need once (outside the
    stored top-k the pair still has a score). None when no model has been fitted yet.
    """
    stored = dict(
        db.session.execute(
            select(Suggestion.achievement_id, Suggestion.score).where(
                Suggestion.need_id == need.id, Suggestion.achievement_id.in_(achievement_ids)
            )
        ).all()
    )
    missing = [i for i in achievement_ids if i not in stored]
    if missing:
        stored.update(_model_scores(need, missing))
    return {i: stored.get(i) for i in achievement_ids}


def _model_scores(need, achievement_ids: list[int]) -> dict[int, float]:
    try:
        from matchmaker.runs import inputs as matching_inputs
        from matchmaker.runs import model_store

        _version, matcher = model_store.current_matcher()
        if matcher is None:
            return {}
        _row, listing = matching_inputs.listing_for("need", need.id)
        if listing is None:
            return {}
        total = db.session.scalar(select(func.count(Achievement.id))) or 1
        matches = matcher.match_listing(listing, kind="need", top_k=total, min_score=0.0)
    except Exception:  # noqa: BLE001 - a score is a hint on this page, never a reason to fail it
        return {}
    wanted = set(achievement_ids)
    return {m.achievement_id: m.score for m in matches if m.achievement_id in wanted}
