"""Finding listings: filters, full-text search over the term index, pagination, new arrivals."""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import String, and_, bindparam, cast, false, func, or_, select
from sqlalchemy.orm import defer, joinedload

from matchmaker.accounts.models import Field, Organization, User
from matchmaker.core import paging
from matchmaker.core.db import utcnow
from matchmaker.core.exceptions import ServiceError
from matchmaker.core.extensions import db
from matchmaker.core.schemas import check
from matchmaker.listings import hits as listing_hits
from matchmaker.listings.filter_schema import ListingFilters as Filters
from matchmaker.listings.models import (
    achievement_fields,
    need_fields,
)
from matchmaker.listings.posting import Kind, kind_of
from matchmaker.listings.terms import query_terms

MAX_PER_PAGE = 100
FILTER_KEYS = tuple(f.alias or name for name, f in Filters.model_fields.items())


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int
    terms: list = field(default_factory=list)
    # 您是不是要找: corrected queries when the query found nothing (listing_suggest).
    suggestions: list = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def parse_filters(kind_name: str, args) -> Filters:
    """Read filters from query arguments; bad values raise ServiceError naming the filter."""
    checked = check(Filters, args, kind=kind_of(kind_name).name)
    if checked.errors:
        raise ServiceError(next(iter(checked.errors.values())), errors=checked.errors)
    return checked.row


def page_args(args, default: int = 20) -> tuple[int, int]:
    """Page number and size from query arguments (the shared parser, this search's page size)."""
    return paging.page_args(args, default=default, max_per_page=MAX_PER_PAGE)


def _visible(kind: Kind, user: User | None, f: Filters):
    model = kind.model
    own = user.organization_id if user is not None else None
    if f.mine:
        if own is None:
            return false()
        clause = model.organization_id == own
        return and_(clause, model.status == f.status) if f.status else clause
    if user is not None and user.role == "staff":
        return model.status == (f.status or "published")
    status = f.status or "published"
    if status == "published":
        return model.status == "published"
    if own is None:
        return false()
    return and_(model.status == status, model.organization_id == own)


def _json_contains(column, value: str):
    # JSON lists are stored as json.dumps text on both databases, so a quoted item is a substring:
    # UTF-8 (config's json_serializer), or \u-escaped in rows written by earlier versions.
    import json

    text = cast(column, String)
    forms = {json.dumps(value, ensure_ascii=False), json.dumps(value)}
    return or_(*(text.contains(form, autoescape=True) for form in sorted(forms)))


def _filtered(kind: Kind, user: User | None, f: Filters):
    model = kind.model
    # Ids first: ordering and counting then run on indexes, and only one page of rows is loaded.
    stmt = select(model.id).where(_visible(kind, user, f))
    if f.region or f.org_kind:
        # Organizations are few: resolve them first, so the planner never joins on a guess.
        orgs = select(Organization.id)
        if f.region:
            orgs = orgs.where(Organization.region.contains(f.region, autoescape=True))
        if f.org_kind:
            orgs = orgs.where(Organization.kind == f.org_kind)
        stmt = stmt.where(model.organization_id.in_(list(db.session.scalars(orgs))))
    if f.field_id is not None:
        link = achievement_fields if kind.name == "achievement" else need_fields
        own_col = link.c.achievement_id if kind.name == "achievement" else link.c.need_id
        ids = [f.field_id] + list(
            db.session.scalars(select(Field.id).where(Field.parent_id == f.field_id))
        )
        stmt = stmt.where(
            select(own_col).where(own_col == model.id, link.c.field_id.in_(ids)).exists()
        )
    if kind.name == "achievement":
        if f.maturity:
            stmt = stmt.where(model.maturity == f.maturity)
        if f.mode:
            stmt = stmt.where(_json_contains(model.transfer_modes, f.mode))
        low_col, high_col = model.price_min, model.price_max
    else:
        if f.mode:
            stmt = stmt.where(_json_contains(model.cooperation_modes, f.mode))
        if f.bottleneck is not None:
            stmt = stmt.where(model.is_bottleneck.is_(f.bottleneck))
        low_col, high_col = model.budget_min, model.budget_max
    # Ranges overlap; a listing without any amount (面议) drops out once a range is asked for.
    if f.low is not None:
        stmt = stmt.where(func.coalesce(high_col, low_col) >= f.low)
    if f.high is not None:
        stmt = stmt.where(func.coalesce(low_col, high_col) <= f.high)
    if f.since is not None:
        stmt = stmt.where(model.published_at >= datetime.combine(f.since, datetime.min.time()))
    return stmt


def search(kind_name: str, user: User | None, f: Filters, page: int = 1, per_page: int = 20):
    """One page of the listings the user may see that pass the filters, best matches first."""
    kind = kind_of(kind_name)
    model = kind.model
    terms = query_terms(f.q) if f.q else []
    from_index = bool(terms) and listing_hits.answers(f)
    if from_index:  # the term index alone, no join to every hit
        total, ids = listing_hits.page(kind.terms, terms, f, page, per_page)
    else:
        total, ids = _general_page(kind, user, f, terms, page, per_page)
    rows = {}
    if ids:
        rows = {row.id: row for row in db.session.scalars(_rows_of(model), {"ids": ids}).unique()}
    if from_index:  # a term row whose copy of the status went stale never shows a listing
        rows = {i: row for i, row in rows.items() if row.status == "published"}
    result = Page([rows[i] for i in ids if i in rows], total or 0, page, per_page, terms)
    if not total and f.q:
        from matchmaker.listings.suggest import did_you_mean

        result.suggestions = did_you_mean(kind_name, f.q)
    return result


def _general_page(kind: Kind, user: User | None, f: Filters, terms, page: int, per_page: int):
    """(total, ids of this page) for any filters, joining the term index's hits to the rows."""
    model = kind.model
    stmt = _filtered(kind, user, f)
    # Plain DESC so PostgreSQL can walk the (status, published_at) index backwards.
    order = [model.published_at.desc(), model.id.desc()]
    if terms:
        t = kind.terms
        if len(terms) == 1:
            hits = select(t.c.listing_id, t.c.weight.label("score")).where(t.c.term == terms[0])
        else:
            hits = (
                select(t.c.listing_id, func.sum(t.c.weight).label("score"))
                .where(t.c.term.in_(terms))
                .group_by(t.c.listing_id)
                .having(func.count() == len(terms))
            )
        hits = hits.subquery()
        stmt = stmt.join(hits, hits.c.listing_id == model.id)
        if f.sort == "relevance":
            order.insert(0, hits.c.score.desc())
    elif f.q:
        # Only stop words or punctuation: fall back to a plain substring of the title.
        stmt = stmt.where(model.title.contains(f.q, autoescape=True))
    if f.mine and not terms:
        order = [model.updated_at.desc(), model.id.desc()]
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    ids = db.session.scalars(
        stmt.order_by(*order).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return total, ids


@cache
def _rows_of(model):
    """The statement loading a page's rows by id, built once per kind (building it cost more CPU
    than running it). Every page shows each row's fields and organization: one joined query, not
    one per row (a selectin query for the fields cost more CPU than the joined rows it saves).
    The engine's cached tokens (hundreds per listing once matched) are never shown."""
    return (
        select(model)
        .where(model.id.in_(bindparam("ids", expanding=True)))
        .options(
            joinedload(model.field_links),
            joinedload(model.organization),
            defer(model.tokens),
        )
    )


def new_since(user: User, only_my_fields: bool = False, limit: int = 200) -> dict:
    """Listings published since the user's previous visit (or the last week), both kinds."""
    since = user.previous_seen_at or (utcnow() - timedelta(days=7))
    field_ids = [f.id for f in user.fields] if only_my_fields else []
    out = {"since": since}
    for kind_name in ("need", "achievement"):
        kind = kind_of(kind_name)
        model = kind.model
        stmt = select(model).where(model.status == "published", model.published_at > since)
        if field_ids:
            link = achievement_fields if kind_name == "achievement" else need_fields
            own_col = link.c.achievement_id if kind_name == "achievement" else link.c.need_id
            stmt = stmt.where(
                select(own_col).where(own_col == model.id, link.c.field_id.in_(field_ids)).exists()
            )
        out[kind_name] = db.session.scalars(
            stmt.order_by(model.published_at.desc()).limit(limit)
        ).all()
    return out


def pending_count() -> int:
    """Listings of both kinds waiting for review."""
    return sum(
        db.session.scalar(select(func.count(k.model.id)).where(k.model.status == "pending")) or 0
        for k in (kind_of("achievement"), kind_of("need"))
    )


def review_queue() -> list[tuple[str, object]]:
    """Pending listings of both kinds, oldest submission first."""
    rows = []
    for kind_name in ("achievement", "need"):
        model = kind_of(kind_name).model
        rows += [
            (kind_name, row)
            for row in db.session.scalars(
                select(model).where(model.status == "pending").order_by(model.submitted_at)
            )
        ]
    return sorted(rows, key=lambda pair: pair[1].submitted_at or utcnow())
