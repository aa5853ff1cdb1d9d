"""What each role's home page (工作台) lists: the things waiting on the user, each a link."""

from datetime import date

from sqlalchemy import func, or_, select

from matchmaker.accounts.models import User
from matchmaker.core.db import utcnow
from matchmaker.core.extensions import db
from matchmaker.fairs.models import Fair
from matchmaker.listings.kinds import kind_of
from matchmaker.listings.search import pending_count
from matchmaker.pairs.access import visible_clause
from matchmaker.pairs.models import Suggestion
from matchmaker.pairs.states import BROKER_WAITING, ENGAGED_STATES, PairState
from matchmaker.runs.models import RUN_ACTIVE, MatchRun

LIMIT = 5


def _count(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def party_home(user: User) -> dict:
    """A company's needs or an institute's achievements, and the pairs waiting on it."""
    kind = kind_of("need" if user.role == "enterprise" else "achievement")
    model = kind.model
    org = user.organization_id or -1
    lists = {}
    for status in ("draft", "returned"):
        stmt = select(model).where(model.organization_id == org, model.status == status)
        lists[status] = {
            "count": _count(stmt),
            "items": db.session.scalars(stmt.order_by(model.updated_at.desc()).limit(LIMIT)).all(),
        }
    published = _count(
        select(model.id).where(model.organization_id == org, model.status == "published")
    )
    # The side of a pair this organization answers for is the side its listing is on.
    side_answer = Suggestion.need_answer if kind.name == "need" else Suggestion.achievement_answer
    own = Suggestion.need_id if kind.name == "need" else Suggestion.achievement_id
    waiting = (
        select(Suggestion)
        .where(
            visible_clause(user), Suggestion.state == PairState.RECOMMENDED, side_answer.is_(None)
        )
        .where(own.in_(select(model.id).where(model.organization_id == org)))
    )
    since = user.previous_seen_at
    fresh = select(Suggestion).where(
        visible_clause(user), Suggestion.state == PairState.RECOMMENDED
    )
    if since is not None:
        fresh = fresh.where(Suggestion.state_changed_at >= since)
    return {
        "kind": kind,
        "drafts": lists["draft"],
        "returned": lists["returned"],
        "published": published,
        "waiting": {
            "count": _count(waiting),
            "items": db.session.scalars(
                waiting.order_by(Suggestion.state_changed_at.desc()).limit(LIMIT)
            ).all(),
        },
        "new_recommendations": _count(fresh),
        "active_pairs": _count(
            select(Suggestion.id).where(visible_clause(user), Suggestion.state.in_(ENGAGED_STATES))
        ),
    }


def broker_home(user: User) -> dict:
    """Pairs waiting on the broker, and new suggestions in their fields."""
    mine = or_(Suggestion.broker_id == user.id, Suggestion.claimed_by_id == user.id)
    waiting = select(Suggestion).where(
        visible_clause(user),
        Suggestion.state.in_(BROKER_WAITING),
        or_(mine, Suggestion.broker_id.is_(None)),
        or_(Suggestion.snoozed_until.is_(None), Suggestion.snoozed_until < utcnow()),
    )
    fresh = select(Suggestion.id).where(
        visible_clause(user), Suggestion.state == PairState.SUGGESTED, Suggestion.active.is_(True)
    )
    since = user.previous_seen_at
    new_count = _count(fresh.where(Suggestion.created_at >= since)) if since else _count(fresh)
    return {
        "waiting": {
            "count": _count(waiting),
            "items": db.session.scalars(
                waiting.order_by(Suggestion.state_changed_at).limit(LIMIT)
            ).all(),
        },
        "new_suggestions": new_count,
        "unreviewed": _count(fresh),
        "fields": [f.name for f in user.fields],
    }


def staff_home(user: User) -> dict:
    """The review queue, running matching jobs and fairs coming up."""
    return {
        "pending": pending_count(),
        "running": db.session.scalars(
            select(MatchRun).where(MatchRun.status.in_(RUN_ACTIVE)).order_by(MatchRun.id.desc())
        ).all(),
        "fairs": db.session.scalars(
            select(Fair).where(Fair.held_on >= date.today()).order_by(Fair.held_on).limit(LIMIT)
        ).all(),
        "broker_waiting": _count(select(Suggestion.id).where(Suggestion.state.in_(BROKER_WAITING))),
    }


def home_for(user: User | None) -> dict:
    if user is None:
        return {}
    if user.role in ("enterprise", "institute"):
        return party_home(user)
    if user.role == "broker":
        return broker_home(user) | {"fairs": staff_home(user)["fairs"]}
    if user.role == "staff":
        return staff_home(user)
    return {}
