"""Which pairs a user sees: the broker's review queue, the parties' list, the API listing."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Integer, bindparam, or_, select
from sqlalchemy.orm import selectinload

from matchmaker.accounts.models import User
from matchmaker.core.db import utcnow
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.extensions import db
from matchmaker.core.paging import positive_int
from matchmaker.listings.models import Need, achievement_fields, need_fields
from matchmaker.pairs.access import visible_clause
from matchmaker.pairs.models import Suggestion
from matchmaker.pairs.states import PairState

CLAIM_FILTERS = ("all", "mine", "unclaimed", "others")


@dataclass
class QueueFilters:
    field_id: int | None = None
    min_score: float | None = None
    max_score: float | None = None
    bottleneck_first: bool = False
    unreviewed: bool = True
    new_since: datetime | None = None
    claim: str = "all"
    state: str | None = None
    show_snoozed: bool = False
    cross_field: bool | None = None  # True: only 跨领域 pairs; False: only pairs sharing a field

    @classmethod
    def parse(cls, args, previous_seen_at: datetime | None) -> "QueueFilters":
        """Read filters from query arguments; bad values raise ServiceError naming the field."""
        errors = {}
        values = cls(
            bottleneck_first=args.get("bottleneck") == "1",
            # The form sends a hidden "0" before the checkbox's "1"; no value at all means on.
            unreviewed="1" in _all(args, "unreviewed") if "unreviewed" in args else True,
            show_snoozed=args.get("snoozed") == "1",
            claim=args.get("claim") or "all",
            state=args.get("state") or None,
        )
        if args.get("new") == "1":
            values.new_since = previous_seen_at or datetime.min
        cross = args.get("cross") or ""
        if cross in ("0", "1"):
            values.cross_field = cross == "1"
        elif cross:
            errors["cross"] = "跨领域筛选无效"
        if values.claim not in CLAIM_FILTERS:
            errors["claim"] = "认领状态无效"
        raw = args.get("field") or ""
        if raw:
            values.field_id = positive_int(raw)
            if values.field_id is None:
                errors["field"] = "领域无效"
        for name, attr in (("min_score", "min_score"), ("max_score", "max_score")):
            raw = (args.get(name) or "").strip()
            if raw:
                try:
                    setattr(values, attr, float(raw))
                except ValueError:
                    errors[name] = "请填写0到1之间的数字"
        if (
            values.min_score is not None
            and values.max_score is not None
            and values.min_score > values.max_score
        ):
            errors["max_score"] = "最高分不能低于最低分"
        if errors:
            raise ServiceError("筛选条件有误", errors=errors)
        return values


def _all(args, name: str) -> list:
    return args.getlist(name) if hasattr(args, "getlist") else [args.get(name)]


def queue(user: User, filters: QueueFilters, page: int = 1, per_page: int = 20):
    """The broker's review queue: pairs in their fields, best (and optionally bottleneck) first."""
    stmt = select(Suggestion).join(Need, Need.id == Suggestion.need_id).where(visible_clause(user))
    if filters.unreviewed:
        stmt = stmt.where(Suggestion.state == PairState.SUGGESTED, Suggestion.active.is_(True))
    elif filters.state:
        stmt = stmt.where(Suggestion.state == filters.state)
    if not filters.show_snoozed:
        now = utcnow()
        stmt = stmt.where(or_(Suggestion.snoozed_until.is_(None), Suggestion.snoozed_until <= now))
    if filters.field_id:
        stmt = stmt.where(
            or_(
                Suggestion.need_id.in_(
                    select(need_fields.c.need_id).where(need_fields.c.field_id == filters.field_id)
                ),
                Suggestion.achievement_id.in_(
                    select(achievement_fields.c.achievement_id).where(
                        achievement_fields.c.field_id == filters.field_id
                    )
                ),
            )
        )
    if filters.cross_field is not None:
        stmt = stmt.where(Suggestion.cross_field.is_(filters.cross_field))
    if filters.min_score is not None:
        stmt = stmt.where(Suggestion.score >= filters.min_score)
    if filters.max_score is not None:
        stmt = stmt.where(Suggestion.score <= filters.max_score)
    if filters.new_since is not None:
        stmt = stmt.where(Suggestion.created_at > filters.new_since)
    if filters.claim == "mine":
        stmt = stmt.where(Suggestion.claimed_by_id == user.id)
    elif filters.claim == "unclaimed":
        stmt = stmt.where(Suggestion.claimed_by_id.is_(None))
    elif filters.claim == "others":
        stmt = stmt.where(Suggestion.claimed_by_id.isnot(None), Suggestion.claimed_by_id != user.id)
    order = [Suggestion.score.desc(), Suggestion.id]
    if filters.bottleneck_first:
        order.insert(0, Need.is_bottleneck.desc())
    return db.paginate(stmt.order_by(*order), page=page, per_page=per_page, error_out=False)


def visible(user: User, state: str | None = None, page: int = 1, per_page: int = 20):
    """Every pair the user may see, optionally of one state, best score first."""
    stmt = select(Suggestion).where(visible_clause(user))
    if state:
        stmt = stmt.where(Suggestion.state == state)
    stmt = stmt.order_by(Suggestion.score.desc(), Suggestion.id)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def candidates_for_need(need_id: int, exclude_id: int, limit: int = 5) -> list[Suggestion]:
    """Other strong achievements suggested for the same need."""
    values = {"need_id": need_id, "exclude_id": exclude_id, "limit": limit}
    return list(db.session.scalars(_candidates(), values))


@cache
def _candidates():
    # Built once: on every pair page, building the statement cost more CPU than running it.
    return (
        select(Suggestion)
        .where(Suggestion.need_id == bindparam("need_id"))
        .where(Suggestion.id != bindparam("exclude_id"))
        .where(Suggestion.state.notin_((PairState.DISMISSED,)))
        .order_by(Suggestion.score.desc())
        .limit(bindparam("limit", type_=Integer))
        .options(selectinload(Suggestion.achievement))  # the page names each one
    )


def brokers() -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.role == "broker", User.is_active.is_(True)).order_by(User.login)
        )
    )


def listing_choices(kind_name: str, user, query: str, chosen_id: str = "", limit: int = 20):
    """Published listings to pick for a proposed pair: the chosen one, then the search hits."""
    from matchmaker.listings.posting import kind_of
    from matchmaker.listings.search import Filters, search

    model = kind_of(kind_name).model
    rows = []
    if str(chosen_id).isdigit():
        row = db.session.get(model, int(chosen_id))
        if row is not None and row.status == "published":
            rows.append(row)
    query = (query or "").strip()[:100]
    if query:
        hits = search(kind_name, user, Filters(q=query, status="published"), 1, limit)
        rows += [r for r in hits.items if r.status == "published" and r not in rows]
    return rows
