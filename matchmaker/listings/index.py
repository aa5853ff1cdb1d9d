"""The search-term index of listings, kept in step with their text on every flush."""

from sqlalchemy import delete, event, insert, inspect, select, update
from sqlalchemy.orm import Session

from matchmaker.core.extensions import db
from matchmaker.listings.kinds import KINDS, Kind
from matchmaker.listings.models import Achievement, Need
from matchmaker.listings.terms import listing_terms


def reindex(kind: Kind, listings, connection=None) -> None:
    """Replace the search terms of listings (one or many) with those of their current text."""
    run = (connection or db.session).execute
    listings = listings if isinstance(listings, (list, tuple, set)) else [listings]
    rows = []
    for listing in listings:
        terms = listing_terms(listing.title, listing.keywords, _body(kind, listing))
        listed = _listed(listing)
        rows += [
            {"listing_id": listing.id, "term": t, "weight": w, **listed} for t, w in terms.items()
        ]
    ids = [listing.id for listing in listings]
    for start in range(0, len(ids), 500):
        run(delete(kind.terms).where(kind.terms.c.listing_id.in_(ids[start : start + 500])))
    if rows:
        run(insert(kind.terms), rows)


def reindex_all(batch: int = 500) -> dict:
    """Rebuild the search terms of every listing (after a dictionary change or an old import)."""
    counts = {}
    for kind in KINDS.values():
        ids = list(db.session.scalars(select(kind.model.id).order_by(kind.model.id)))
        for start in range(0, len(ids), batch):
            rows = db.session.scalars(
                select(kind.model).where(kind.model.id.in_(ids[start : start + batch]))
            ).all()
            reindex(kind, rows)
            db.session.commit()
        counts[kind.plural] = len(ids)
    return counts


def _listed(listing) -> dict:
    # What the terms copy of the listing's catalogue state (see models.listings._terms_table).
    published = getattr(listing, "status", None) == "published"
    return {"published": published, "published_at": listing.published_at if published else None}


_INDEXED = ("title", "description", "keywords", "summary")
_LISTED = ("status", "published_at")


@event.listens_for(Session, "before_flush")
def _note_text_changes(session, flush_context, instances) -> None:
    # Whoever writes a listing (a service, an import, a test builder, the demo seed), its search
    # terms follow its text, in the same transaction.
    stale = session.info.setdefault("listings_to_index", set())
    moved = session.info.setdefault("listings_to_list", set())
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, (Achievement, Need)):
            continue
        state = inspect(obj)

        def changed(names, state=state):
            return any(n in state.attrs and state.attrs[n].history.has_changes() for n in names)

        if obj in session.new or changed(_INDEXED):
            stale.add(obj)
        elif changed(_LISTED):
            moved.add(obj)


@event.listens_for(Session, "after_rollback")
def _forget_text_changes(session) -> None:
    session.info.pop("listings_to_index", None)
    session.info.pop("listings_to_list", None)


@event.listens_for(Session, "after_flush")
def _index_changed_text(session, flush_context) -> None:
    stale = session.info.pop("listings_to_index", set())
    moved = session.info.pop("listings_to_list", set()) - stale
    if not stale and not moved:
        return
    connection = session.connection()
    for obj in moved:  # published, withdrawn, closed...: the terms follow, text unchanged
        if obj.id is not None and obj not in session.deleted:
            terms = next(k.terms for k in KINDS.values() if isinstance(obj, k.model))
            connection.execute(
                update(terms).where(terms.c.listing_id == obj.id).values(**_listed(obj))
            )
    for kind in KINDS.values():
        rows = [
            obj
            for obj in stale
            if isinstance(obj, kind.model) and obj.id is not None and obj not in session.deleted
        ]
        if rows:
            reindex(kind, rows, connection)


def _body(kind: Kind, listing) -> str:
    if kind.name == "achievement" and listing.summary:
        return f"{listing.summary}\n{listing.description or ''}"
    return listing.description or ""
