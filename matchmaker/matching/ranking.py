"""Chunked sparse similarity with per-row top-k: never a dense queries x candidates matrix."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp


@dataclass
class Side:
    """One side of the product: vectors plus per-row field, org and tie-break codes."""

    vectors: sp.csr_matrix
    fields: np.ndarray  # int codes, -1 when undeclared
    orgs: np.ndarray  # int codes, -1 when unknown
    order: np.ndarray  # position of each id in sorted id order, for deterministic ties

    @cached_property
    def transposed(self) -> sp.csr_matrix:
        """The vectors transposed, computed once per side (match_listing calls come often)."""
        return self.vectors.T.tocsr()


def top_k(
    queries: Side,
    candidates: Side,
    k: int,
    min_score: float,
    cross_field_factor: float,
    allowed: np.ndarray | None = None,
    chunk_cells: int = 4_000_000,
    n_jobs: int = 1,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield (query_rows, candidate_cols, scores) blocks, each query's top k best first."""
    n_queries, n_candidates = queries.vectors.shape[0], candidates.vectors.shape[0]
    if n_queries == 0 or n_candidates == 0 or k <= 0:
        return
    transposed = candidates.transposed
    step = max(1, min(n_queries, chunk_cells // max(n_candidates, 1)))
    starts = range(0, n_queries, step)

    def run(start: int):
        stop = min(start + step, n_queries)
        block = queries.vectors[start:stop] @ transposed
        return _block_top_k(
            block.tocsr(), start, queries, candidates, k, min_score, cross_field_factor, allowed
        )

    if n_jobs > 1 and len(starts) > 1:
        with ThreadPoolExecutor(n_jobs) as pool:
            yield from pool.map(run, starts)
    else:
        for start in starts:
            yield run(start)


def _block_top_k(block, offset, queries, candidates, k, min_score, factor, allowed):
    """Top k per row of one block, made dense (the block is bounded by chunk_cells)."""
    scores = block.toarray()
    rows_slice = slice(offset, offset + scores.shape[0])
    q_fields, c_fields = queries.fields[rows_slice, None], candidates.fields[None, :]
    cross = (q_fields != c_fields) & (q_fields >= 0) & (c_fields >= 0)
    if factor != 1.0:
        scores[cross] *= factor
    q_orgs = queries.orgs[rows_slice, None]
    scores[(q_orgs >= 0) & (q_orgs == candidates.orgs[None, :])] = -1.0
    if allowed is not None:
        scores[:, ~allowed] = -1.0
    n = scores.shape[1]
    if k < n:
        # every entry tied with the k-th best stays in, so ties are then broken by id
        kth = np.partition(scores, n - k, axis=1)[:, n - k]
        keep = scores >= np.maximum(kth, min_score)[:, None]
    else:
        keep = scores >= min_score
    keep &= scores > 0
    rows, cols = np.nonzero(keep)
    values = scores[rows, cols].astype(np.float64)
    order = np.lexsort((candidates.order[cols], -values, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    first = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left") < k
    return rows[first] + offset, cols[first], np.clip(values[first], 0.0, 1.0)
