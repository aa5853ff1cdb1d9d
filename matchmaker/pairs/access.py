"""Who may see and work a pair: staff everywhere, brokers in their fields, parties on their side."""

from sqlalchemy import exists, or_, select

from matchmaker.accounts.models import User
from matchmaker.core.exceptions import Forbidden
from matchmaker.listings.models import Achievement, Need, achievement_fields, need_fields
from matchmaker.pairs.models import PairEvent, Suggestion
from matchmaker.pairs.states import MAYBE_UNSEEN, PairState

BROKER_ROLES = ("broker", "staff")


def pair_field_ids(pair: Suggestion) -> set[int]:
    return {f.id for f in pair.need.fields} | {f.id for f in pair.achievement.fields}


def covers(user: User, pair: Suggestion) -> bool:
    """Whether a broker works this pair: its fields, or it is assigned to or claimed by them."""
    if user.role == "staff":
        return True
    if user.role != "broker":
        return False
    if user.id in (pair.broker_id, pair.claimed_by_id):
        return True
    return bool({f.id for f in user.fields} & pair_field_ids(pair))


def sides_of(user: User, pair: Suggestion) -> list[str]:
    """The sides of the pair this user's organization speaks for."""
    if user.role not in ("institute", "enterprise") or user.organization_id is None:
        return []
    sides = []
    if pair.need.organization_id == user.organization_id:
        sides.append("need")
    if pair.achievement.organization_id == user.organization_id:
        sides.append("achievement")
    return sides


def was_recommended(pair: Suggestion) -> bool:
    if pair.state not in MAYBE_UNSEEN:
        return True
    return any(e.to_state == PairState.RECOMMENDED for e in pair.events)


def can_view(user: User, pair: Suggestion) -> bool:
    if user.role in BROKER_ROLES:
        return covers(user, pair)
    return bool(sides_of(user, pair)) and was_recommended(pair)


def contacts_revealed(user: User, pair: Suggestion) -> bool:
    """Parties see each other's contacts only once both sides are interested."""
    if user.role in BROKER_ROLES:
        return True
    return pair.need_answer == "interested" and pair.achievement_answer == "interested"


def check_broker(user: User, pair: Suggestion) -> None:
    if user.role not in BROKER_ROLES:
        raise Forbidden("只有技术经纪人或工作人员可以执行此操作")
    if not covers(user, pair):
        raise Forbidden("该配对不在您负责的领域内")
    if user.role == "broker" and pair.claimed_by_id not in (None, user.id):
        raise Forbidden(f"该配对已由{pair.claimed_by.display_name or pair.claimed_by.login}认领")


def visible_clause(user: User):
    """SQL condition for the pairs a user may see (Suggestion joined to nothing)."""
    if user.role == "staff":
        return Suggestion.id.isnot(None)
    if user.role == "broker":
        field_ids = [f.id for f in user.fields]
        return or_(
            Suggestion.broker_id == user.id,
            Suggestion.claimed_by_id == user.id,
            Suggestion.need_id.in_(
                select(need_fields.c.need_id).where(need_fields.c.field_id.in_(field_ids))
            ),
            Suggestion.achievement_id.in_(
                select(achievement_fields.c.achievement_id).where(
                    achievement_fields.c.field_id.in_(field_ids)
                )
            ),
        )
    org_id = user.organization_id or -1
    recommended_once = or_(
        Suggestion.state.notin_(MAYBE_UNSEEN),
        exists().where(
            PairEvent.suggestion_id == Suggestion.id, PairEvent.to_state == PairState.RECOMMENDED
        ),
    )
    own = or_(
        Suggestion.need_id.in_(select(Need.id).where(Need.organization_id == org_id)),
        Suggestion.achievement_id.in_(
            select(Achievement.id).where(Achievement.organization_id == org_id)
        ),
    )
    return own & recommended_once
