"""Pseudo-relevance feedback: the shorter side's listings borrow terms from their best partners.

Each query of the feedback side takes its ``feedback_docs`` best candidates (scored with a milder
field prior, so a need filed under the wrong field still draws on its real partners) and adds
their score-weighted centroid to its own vector.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .ranking import Side, TopK, top_k_both
from .sparse_ops import normalize_rows, top_per_row


def expand(matcher, queries: Side, candidates: Side) -> tuple[Side, TopK]:
    """The queries with feedback from their best candidates, and the feedback chosen.

    The feedback chosen is kept for incremental scoring, which adds a new listing to the feedback
    of the rows it would have entered.
    """
    cfg = matcher.config
    top, _ = top_k_both(
        queries,
        candidates,
        cfg.feedback_docs,
        0,
        cfg.min_score,
        matcher.scoring(feedback=True),
        chunk_cells=cfg.chunk_cells,
        n_jobs=matcher.n_jobs,
    )
    n = queries.vectors.shape[0]
    rows, ranks = np.nonzero(top.index >= 0)
    weights = sp.csr_matrix(
        (top.score[rows, ranks].astype(np.float32), (rows, top.index[rows, ranks])),
        shape=(n, candidates.vectors.shape[0]),
    )
    centroid = sp.csr_matrix(weights @ candidates.vectors)
    return with_centroid(matcher, queries, centroid), top


def with_centroid(matcher, queries: Side, centroid: sp.csr_matrix) -> Side:
    """The queries plus feedback_weight times their unit feedback centroid, as unit vectors.

    An expanded listing holds its partners' terms too, so its own length says little: it is
    scored as a unit vector (the length pivot weighs the other side).
    """
    cfg = matcher.config
    centroid = normalize_rows(top_per_row(centroid, cfg.feedback_terms))
    expanded = normalize_rows(queries.vectors + cfg.feedback_weight * centroid).astype(np.float32)
    latent = matcher._latent(expanded)
    return Side(expanded.tocsr(), queries.fields, queries.orgs, queries.order, latent)
