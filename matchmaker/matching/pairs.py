"""Matches out of fitted positions: ids, shared fields, the cross-field mark and the explanation."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .explain import explain_products
from .fields import shared_fields
from .listing import Match
from .ranking import TopK
from .search import other


def make_match(need_id, achievement_id, need_fields, achievement_fields, *rest) -> Match:
    """A Match with shared_fields, same_field and cross_field filled from both field lists."""
    shared = shared_fields(need_fields, achievement_fields)
    cross = bool(need_fields) and bool(achievement_fields) and not shared
    return Match(need_id, achievement_id, *rest, bool(shared), shared, cross)


def fitted_match(matcher, need, achievement, score, need_rank, achievement_rank, terms) -> Match:
    """A Match between fitted positions, with the fields the two listings share."""
    return make_match(
        matcher.need_ids_[need],
        matcher.achievement_ids_[achievement],
        matcher.listing_fields_["need"][need],
        matcher.listing_fields_["achievement"][achievement],
        score,
        need_rank,
        achievement_rank,
        terms,
    )


def matches(matcher, kind, rows, top: TopK) -> list[Match]:
    """Turn the top-k arrays of the given query rows into explained matches, best first."""
    index, scores = top.index[rows], top.score[rows]
    q, rank = np.nonzero(index >= 0)
    c, s = index[q, rank], scores[q, rank]
    q_rows = rows[q]
    queries, candidates = matcher.sides_[kind], matcher.sides_[other(kind)]
    terms = explain_rows(matcher, queries.vectors, q_rows, candidates.vectors, c)
    out = []
    for i in range(len(q)):
        place, score = int(rank[i]) + 1, min(float(s[i]), 1.0)
        if kind == "need":
            out.append(fitted_match(matcher, q_rows[i], c[i], score, place, None, terms[i]))
        else:
            out.append(fitted_match(matcher, c[i], q_rows[i], score, None, place, terms[i]))
    return out


def explain_rows(
    matcher, left: sp.csr_matrix, left_rows, right: sp.csr_matrix, right_rows
) -> list[list[tuple[str, float]]]:
    """Per pair (left row i, right row i), the top terms with their share of the cosine."""
    if len(left_rows) == 0:
        return []
    products = left[left_rows].multiply(right[right_rows]).tocsr()
    return explain_products(
        products,
        matcher.n_word_features_,
        matcher.terms_,
        matcher._gram_owners(),
        matcher.config.explain_terms,
    )
