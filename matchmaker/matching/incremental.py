"""Score one new or edited listing as a full refit on the same data would, without refitting.

The listing and the other side's listings published since the fit are vectorized with the fitted
vocabulary. Pseudo-relevance feedback is redone where a refit would redo it: the query (when it is
on the feedback side) takes its best candidates among fitted and new listings; new candidates on
the feedback side take theirs among the fitted listings and the query; and a fitted candidate
whose feedback the query would have entered gets the query in its feedback set. Only the IDF
of the fitted listings is not redone (see extend.py), so scores stay within about 0.01 of a refit's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import prior
from .extend import explain_pairs, vectorize_new, widen_columns
from .feedback import with_centroid
from .fields import crossing, field_bits, field_index, widen
from .pairs import make_match
from .ranking import Scoring, Side, top_k_both


@dataclass
class _Part:
    """A group of candidates: scored vectors, raw vectors for the explanation, ids and fields."""

    side: Side
    raw: sp.csr_matrix
    ids: list
    fields: list
    mask: np.ndarray | None = None
    positions: np.ndarray | None = None  # rows of the fitted side (None: new listings)


def match_listing(matcher, listing, kind: str, top_k: int, min_score, extras: Sequence) -> list:
    """Rank the other side (fitted plus extras) for one listing; see Matcher.match_listing."""
    other = "achievement" if kind == "need" else "need"
    cfg = matcher.config
    threshold = cfg.min_score if min_score is None else min_score
    fields = field_index([listing.fields, *(x.fields for x in extras)], matcher.fields_)
    width = field_bits([], fields).shape[1]
    extended = vectorize_new(
        matcher, [listing, *extras], _fitted_rows(matcher, kind, listing, extras)
    )
    orgs = dict(matcher.orgs_)
    for x in (listing, *extras):  # organizations unknown to the fit each get their own code
        if x.org not in (None, "") and x.org not in orgs:
            orgs[x.org] = len(orgs)
    new = matcher._side(extended.matrix, [listing, *extras], fields, orgs)
    new = Side(new.vectors, widen(new.fields, width), new.orgs, new.order, new.latent)
    query, extra_side = _subset(new, np.arange(1)), _subset(new, np.arange(1, len(extras) + 1))
    replaced = {x.id for x in extras}
    fitted = _fitted_part(matcher, other, width, extended.width, exclude=replaced)
    feedback = matcher._feedback_on()
    if feedback and kind == matcher.feedback_kind_:
        pool = [fitted] + ([_Part(extra_side, extra_side.vectors, [], [])] if extras else [])
        scoring = _expanded(matcher, query, pool)
        parts = pool
    elif feedback:
        own = _fitted_part(matcher, kind, width, extended.width, exclude={listing.id})
        own_pool = [own, _Part(query, query.vectors, [listing.id], [listing.fields])]
        scoring = query
        parts = _refreshed_feedback_side(matcher, other, fitted, query, listing, width)
        if extras:
            redone = _expanded(matcher, extra_side, own_pool)
            parts.append(_Part(redone, extra_side.vectors, [], []))
    else:
        scoring, parts = query, [fitted]
        if extras:
            parts.append(_Part(extra_side, extra_side.vectors, [], []))
    if extras:
        parts[-1].ids, parts[-1].fields = [x.id for x in extras], [x.fields for x in extras]
    if matcher.configured_scoring().relative:
        scoring = _with_bests(matcher, kind, listing, scoring, parts, width, extended.width)
    rule = _rule(matcher, kind, [listing, *extras], new.fields)
    best = _best(matcher, parts, scoring, top_k, threshold, rule=rule)[0]
    return _to_matches(matcher, kind, listing, query, parts, best, extended)


def _fitted_rows(matcher, kind, listing, extras) -> sp.csr_matrix:
    """The fitted vectors of the listings that are sent again (edited or unchanged)."""
    other = "achievement" if kind == "need" else "need"
    rows = [
        matcher.sides_[k].vectors[matcher.positions_[k][x.id]]
        for k, group in ((kind, [listing]), (other, extras))
        for x in group
        if x.id in matcher.positions_[k]
    ]
    if not rows:
        return None
    return sp.vstack(rows, format="csr")


def _fitted_part(matcher, kind, width, columns, exclude) -> _Part:
    """The fitted side as scored, without the rows that new versions replace."""
    side = matcher._scoring_side(kind)
    positions = matcher.positions_[kind]
    mask = None
    dropped = [positions[x] for x in exclude if x in positions]
    if dropped:
        mask = np.ones(side.vectors.shape[0], dtype=bool)
        mask[dropped] = False
    vectors = widen_columns(side.vectors, columns)
    side = Side(vectors, widen(side.fields, width), side.orgs, side.order, side.latent)
    ids = matcher.need_ids_ if kind == "need" else matcher.achievement_ids_
    raw = widen_columns(matcher.sides_[kind].vectors, columns)
    positions = np.arange(side.vectors.shape[0])
    return _Part(side, raw, ids, matcher.listing_fields_[kind], mask, positions)


def _rule(matcher, kind, listings, bits) -> Scoring:
    """The scoring rule with the new listings' fields counted in the trust (trust.py), as a refit
    counts them (listings: the query, then the other side's extras; bits: their field bits)."""
    rule = matcher.scoring()
    if not rule.relative:
        return rule
    other = "achievement" if kind == "need" else "need"
    added = {kind: bits[:1], other: bits[1:]}
    removed = {}
    for k, group in ((kind, listings[:1]), (other, listings[1:])):
        rows = [matcher.positions_[k][x.id] for x in group if x.id in matcher.positions_[k]]
        removed[k] = matcher.sides_[k].fields[np.array(rows, dtype=np.int64)]
    trust = matcher.field_trust().with_listings(
        (added["need"], added["achievement"]), (removed["need"], removed["achievement"])
    )
    return dataclasses.replace(rule, winner_power=trust.winner_power(matcher.config.winner_power))


def _best(
    matcher, parts, queries: Side, k: int, threshold, feedback=False, rule=None
) -> list[list[tuple]]:
    """Per query row, its k best (score, part, row) over all parts, ties by id like a full run."""
    cfg = matcher.config
    found: list[list[tuple]] = [[] for _ in range(queries.vectors.shape[0])]
    for p, part in enumerate(parts):
        if part.side.vectors.shape[0] == 0:
            continue
        # Candidates as rows, queries as columns: only the few query vectors are transposed.
        _, top = top_k_both(
            part.side,
            queries,
            0,
            k,
            threshold,
            rule or matcher.scoring(feedback=feedback),
            row_mask=part.mask,
            chunk_cells=cfg.chunk_cells,
        )
        for q, r in zip(*np.nonzero(top.index >= 0), strict=True):
            found[q].append((float(top.score[q, r]), p, int(top.index[q, r])))
    key = _sort_key(parts)
    return [sorted(rows, key=key)[:k] for rows in found]


def _sort_key(parts):
    def key(entry):
        score, p, row = entry
        identifier = parts[p].ids[row] if parts[p].ids else row
        return (-np.float32(score), isinstance(identifier, str), identifier)

    return key


def _expanded(matcher, queries: Side, pool: list[_Part]) -> Side:
    """The queries with feedback from their best candidates among the pool's raw vectors."""
    cfg = matcher.config
    raw_pool = [_Part(_raw_side(p), p.raw, p.ids, p.fields, p.mask) for p in pool]
    best = _best(matcher, raw_pool, queries, cfg.feedback_docs, cfg.min_score, feedback=True)
    return _with_feedback(matcher, queries, [[(s, pool[p].raw[r]) for s, p, r in b] for b in best])


def _with_feedback(matcher, queries: Side, chosen) -> Side:
    """Add to each query the score-weighted centroid of its chosen feedback vectors."""
    n, width = queries.vectors.shape
    rows = []
    for picks in chosen:
        row = sp.csr_matrix((1, width), dtype=np.float32)
        for score, vector in picks:
            row = row + np.float32(score) * vector
        rows.append(row)
    return with_centroid(matcher, queries, sp.vstack(rows, format="csr"))


def _raw_side(part: _Part) -> Side:
    side = part.side
    return Side(part.raw, side.fields, side.orgs, side.order, None)


def _refreshed_feedback_side(matcher, kind, fitted: _Part, query: Side, listing, width) -> list:
    """The fitted feedback side, with the query added to the feedback of rows it would enter."""
    cfg = matcher.config
    raw = _raw_side(fitted)
    matcher._scoring_side(kind)  # computes the feedback once
    feedback = matcher._feedback_top
    floors = feedback.score[:, -1]
    scores = _scores_against(matcher, raw, query)
    entering = np.flatnonzero((scores > floors) & (scores >= cfg.min_score))
    if fitted.mask is not None:
        entering = entering[fitted.mask[entering]]
    if len(entering) == 0:
        return [fitted]
    own = matcher.positions_["need" if kind == "achievement" else "achievement"].get(listing.id)
    own_raw = widen_columns(
        matcher.sides_["need" if kind == "achievement" else "achievement"].vectors,
        query.vectors.shape[1],
    )
    chosen = []
    for row in entering.tolist():
        picks = [
            (float(s), own_raw[i])
            for i, s in zip(feedback.index[row], feedback.score[row], strict=True)
            if i >= 0 and i != own
        ]
        picks.append((float(scores[row]), query.vectors[0]))
        picks.sort(key=lambda x: -x[0])
        chosen.append(picks[: cfg.feedback_docs])
    redone = _with_feedback(matcher, _subset(raw, entering), chosen)
    mask = np.ones(raw.vectors.shape[0], dtype=bool) if fitted.mask is None else fitted.mask.copy()
    mask[entering] = False
    rest = _Part(fitted.side, fitted.raw, fitted.ids, fitted.fields, mask, fitted.positions)
    ids = [fitted.ids[i] for i in entering]
    fields = [fitted.fields[i] for i in entering]
    return [rest, _Part(redone, fitted.raw[entering], ids, fields, None, entering)]


def _with_bests(matcher, kind, listing, query: Side, parts: list, width, columns) -> Side:
    """Give the query and every part each row's reference score (prior.py), as a refit would:
    fitted rows keep their fitted top scores with the query's score merged in, new listings
    take theirs over the query's fitted side and the query, the query its top over all parts."""
    other = "achievement" if kind == "need" else "need"
    fitted_top, fitted_same = matcher.row_bests()[other]
    cfg, scale = matcher.config, matcher.field_trust().reference_scale
    query_scores, query_same = [], np.float32(0)
    for part in parts:
        scores = _neutral_scores(matcher, part.side, query)
        if part.mask is not None:
            scores = np.where(part.mask, scores, 0)
        cross = crossing(part.side.fields, np.repeat(query.fields, len(scores), axis=0))
        same = np.where(cross, 0, scores).astype(np.float32)
        if len(scores):
            query_scores.append(scores)
            query_same = max(query_same, same.max())
        if part.positions is not None:
            base_top, base_same = fitted_top[part.positions], fitted_same[part.positions]
        else:
            own = _fitted_part(matcher, kind, width, columns, exclude={listing.id})
            base_top, base_same = _bests_against(matcher, part.side, own)
        top, same = prior.merge_top(base_top, scores), np.maximum(base_same, same)
        best = prior.references(top, same, cfg, scale)
        part.side = dataclasses.replace(part.side, best=best)
    every = np.concatenate(query_scores) if query_scores else np.zeros(0, np.float32)
    query_top = prior.columns(-np.sort(-every)[None, : fitted_top.shape[1]], 1, fitted_top.shape[1])
    reference = prior.references(query_top, np.float32([query_same]), cfg, scale)
    return dataclasses.replace(query, best=reference)


def _bests_against(matcher, rows: Side, own: _Part) -> tuple[np.ndarray, np.ndarray]:
    """Each row's top scores before the prior, and best same-field score, over a fitted side."""
    out = []
    for factor, k in ((1.0, 1 + prior.OUTLIER_RANKS), (0.0, 1)):
        scoring = Scoring(factor, 1.0, matcher.scoring().latent_weight)
        top, _ = top_k_both(
            rows, own.side, k, 0, matcher.config.min_score, scoring, col_mask=own.mask
        )
        pick = prior.first_column if k == 1 else prior.columns
        out.append(pick(top.score, rows.vectors.shape[0]))
    return out[0], out[1]


def _neutral_scores(matcher, candidates: Side, query: Side) -> np.ndarray:
    """Every candidate's score with the one query before the field prior (same-org pairs 0)."""
    scores = np.asarray((candidates.vectors @ query.vectors[0].T).todense()).ravel()
    scores = scores.astype(np.float32)
    weight = matcher.scoring().latent_weight
    if weight > 0 and candidates.latent is not None and query.latent is not None:
        latent = np.maximum(candidates.latent @ query.latent[0], 0)
        scores = np.float32(1 - weight) * scores + np.float32(weight) * latent
    if query.orgs[0] >= 0:
        scores[candidates.orgs == query.orgs[0]] = 0
    scores[scores < matcher.config.min_score] = 0
    return scores


def _scores_against(matcher, candidates: Side, query: Side) -> np.ndarray:
    """Every candidate's score with the one query (field prior applied; same-org pairs 0)."""
    scores = np.asarray((candidates.vectors @ query.vectors[0].T).todense()).ravel()
    cross = crossing(candidates.fields, np.repeat(query.fields, len(scores), axis=0))
    scores = scores.astype(np.float32)
    scoring = matcher.scoring(feedback=True)
    if scoring.factor == 0:
        scores[cross] = 0
    elif not scoring.neutral:
        scores = np.where(cross, scoring.cross(scores), scores)
    if query.orgs[0] >= 0:
        scores[candidates.orgs == query.orgs[0]] = 0
    return scores


def _subset(side: Side, rows: np.ndarray) -> Side:
    latent = None if side.latent is None else side.latent[rows]
    return Side(side.vectors[rows], side.fields[rows], side.orgs[rows], side.order[rows], latent)


def _to_matches(matcher, kind, listing, query: Side, parts, best, extended) -> list:
    if not best:
        return []
    right = sp.vstack([parts[p].raw[r] for _, p, r in best], format="csr")
    left = sp.vstack([query.vectors] * len(best), format="csr")
    terms = explain_pairs(matcher, left, right, extended)
    matches = []
    for place, ((score, p, r), explained) in enumerate(zip(best, terms, strict=True), 1):
        theirs, their_fields = parts[p].ids[r], parts[p].fields[r]
        score = min(score, 1.0)
        if kind == "need":
            matches.append(
                make_match(
                    listing.id, theirs, listing.fields, their_fields, score, place, None, explained
                )
            )
        else:
            matches.append(
                make_match(
                    theirs, listing.id, their_fields, listing.fields, score, None, place, explained
                )
            )
    return matches
