"""What listing pages and exports show of a listing's pairs (registered in core.listing_pairs)."""

from sqlalchemy import or_, select

from matchmaker.core.extensions import db
from matchmaker.core.listing_pairs import ListingPairs
from matchmaker.listings.models import Achievement, Need
from matchmaker.pairs.access import visible_clause
from matchmaker.pairs.models import PairEvent, Suggestion
from matchmaker.pairs.states import MAYBE_UNSEEN, PairState


def _own_column(kind_name: str):
    return Suggestion.need_id if kind_name == "need" else Suggestion.achievement_id


def party_access(user, kind_name: str) -> dict[int, bool]:
    """Listings of this kind in a recommended pair with the user's organization on the other
    side, each with whether both sides of such a pair are interested."""
    if kind_name == "need":
        own, other, other_model = Suggestion.need_id, Suggestion.achievement_id, Achievement
    else:
        own, other, other_model = Suggestion.achievement_id, Suggestion.need_id, Need
    recommended = or_(
        Suggestion.state.notin_(MAYBE_UNSEEN),
        Suggestion.id.in_(
            select(PairEvent.suggestion_id).where(PairEvent.to_state == PairState.RECOMMENDED)
        ),
    )
    rows = db.session.execute(
        select(own, Suggestion.need_answer, Suggestion.achievement_answer).where(
            other.in_(
                select(other_model.id).where(other_model.organization_id == user.organization_id)
            ),
            recommended,
        )
    )
    found: dict[int, bool] = {}
    for listing_id, need_answer, achievement_answer in rows:
        both = need_answer == "interested" and achievement_answer == "interested"
        found[listing_id] = found.get(listing_id, False) or both
    return found


def ranked(kind_name: str, listing_id: int, limit: int) -> list[Suggestion]:
    """The listing's active pairs, best score first."""
    return db.session.scalars(
        select(Suggestion)
        .where(_own_column(kind_name) == listing_id, Suggestion.active.is_(True))
        .order_by(Suggestion.score.desc(), Suggestion.id)
        .limit(limit)
    ).all()


def exportable(user, kind_name: str | None, listing_id: int | None, limit: int) -> list:
    """Active pairs to export: the listing's when one is given, else those the user may see."""
    stmt = select(Suggestion).where(Suggestion.active.is_(True))
    if kind_name and listing_id:
        stmt = stmt.where(_own_column(kind_name) == listing_id)
    else:
        stmt = stmt.where(visible_clause(user))  # a broker: only pairs in their fields
    return db.session.scalars(stmt.order_by(Suggestion.score.desc()).limit(limit)).all()


READERS = ListingPairs(party_access=party_access, ranked=ranked, exportable=exportable)
