"""A run's model refitted from the run's own listings, when no store holds the planned file.

A run's chunks name every listing the planner fitted on (each published listing of both sides is
in one chunk). Their cached tokens are those the planner used (it wrote fresh ones back in the
planning transaction), so fitting on them again, in id order as the planner did, gives the same
version and the same model: it is stored under that version for the other workers. If a listing
was edited since, the version differs; the model is then fitted on the run's listings as they are
now, kept in this process for the run's remaining chunks and not stored under a name it does not
match.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlalchemy import select

from matchmaker.accounts.models import Field
from matchmaker.core.extensions import db
from matchmaker.runs import inputs as matching_inputs
from matchmaker.runs import model_store, vocabulary
from matchmaker.runs.models import MatchChunk

log = logging.getLogger(__name__)
BATCH = 500  # ids per IN list: SQLite allows a limited number of bound parameters


def run_listing_ids(run_id: int) -> dict[str, list[int]]:
    """The need and achievement ids of a run's chunks, in id order."""
    ids: dict[str, list[int]] = {"need": [], "achievement": []}
    rows = db.session.execute(
        select(MatchChunk.direction, MatchChunk.listing_ids).where(MatchChunk.run_id == run_id)
    )
    for direction, listing_ids in rows:
        ids[direction] += listing_ids
    return {kind: sorted(set(found)) for kind, found in ids.items()}


def _listings(kind: str, ids: list[int], config) -> list:
    from matchmaker.matching import listing_tokens

    model, link, column = matching_inputs.MODELS[kind]
    owner = link.c[column]
    out = []
    for start in range(0, len(ids), BATCH):
        part = ids[start : start + BATCH]
        fields: dict[int, list[str]] = {}
        for listing_id, name in db.session.execute(
            select(owner, Field.name)
            .join(Field, Field.id == link.c.field_id)
            .where(owner.in_(part))
            .order_by(owner, link.c.position, link.c.field_id)
        ):
            fields.setdefault(listing_id, []).append(name)
        for row in db.session.scalars(select(model).where(model.id.in_(part)).order_by(model.id)):
            listing = matching_inputs.to_listing(
                row, tuple(fields.get(row.id, ())), getattr(row, "summary", "")
            )
            tokens = row.tokens
            if tokens is None or row.tokens_revision != row.revision:
                tokens = listing_tokens(listing, config)
            out.append(replace(listing, tokens=tuple(tokens)))
    return out


def refit(run_id: int, version: str):
    """Return the matcher of a run whose model file is in no store, fitted on its listings."""
    from matchmaker.matching import Matcher

    config = vocabulary.match_config()
    ids = run_listing_ids(run_id)
    inputs = matching_inputs.Inputs(
        _listings("achievement", ids["achievement"], config),
        _listings("need", ids["need"], config),
        {},
    )
    matcher = Matcher(config)
    same = matching_inputs.model_version(matcher, inputs) == version
    matcher.fit(inputs.achievements, inputs.needs)
    if same:
        model_store.save(matcher, version)
        log.warning("run %s: model %s was in no store; refitted and stored", run_id, version)
    else:
        model_store.hold(version, matcher)
        log.warning(
            "run %s: model %s was in no store and its listings changed since planning; "
            "refitted on their current text for this process only",
            run_id,
            version,
        )
    return matcher
