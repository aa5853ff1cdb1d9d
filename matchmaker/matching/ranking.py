"""Chunked sparse similarity with top-k per row and per column: never a dense rows x columns matrix.

One pass over the product blocks yields both directions: each block's rows are complete (a row's
best k is final when its block is done) and each column keeps a running best k merged block by
block. Scores and ties are packed into one int64 key (the float32 score's bits, then the partner's
position in id order reversed), so every top-k is a plain integer partition and ties break by id.
A pair whose listings both declare fields but share none is scored by the field prior (Scoring).
With a factor of 0 listings only compete within their fields (or against listings without one),
so the product splits into one smaller product per set of fields.
A full ranking with the prior scores the product twice (the listings' reference scores first,
prior.py, then the ranking itself): a Reuse keeps the first pass's block products, within a
memory budget, for the second.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np
import scipy.sparse as sp

from .dense import LOW as _LOW
from .dense import score_dense
from .fields import crossing
from .parallel import fork_calls
from .prior import Scoring

__all__ = ["PARALLEL_MIN_CELLS", "Reuse", "Scoring", "Side", "TopK", "top_k_both"]

# Smaller products finish before a forked worker would have started.
PARALLEL_MIN_CELLS = 20_000_000


@dataclass
class Side:
    """One side of the product: vectors plus per-row field, org and tie-break codes."""

    vectors: sp.csr_matrix
    fields: np.ndarray  # (n, words) uint64 bit sets of declared fields (fields.field_bits)
    orgs: np.ndarray  # int codes, -1 when unknown
    order: np.ndarray  # position of each id in sorted id order, for deterministic ties
    latent: np.ndarray | None = None  # (n, components) unit rows of the LSA space, or None
    best: np.ndarray | None = None  # each row's reference score for the field prior (prior.py)

    def transposed(self, key, positions: np.ndarray) -> sp.csr_matrix:
        """The given rows' vectors transposed, kept per key when they are a whole field group.

        A fitted side is queried chunk after chunk with the same field groups; transposing a
        large side per query would cost more than scoring a small chunk against it.
        """
        if key is None:
            return self.vectors[positions].T.tocsr()
        cache = self.__dict__.setdefault("_transposed", {})
        if key not in cache:
            cache[key] = self.vectors[positions].T.tocsr()
        return cache[key]

    def __getstate__(self) -> dict:
        # The transposes are derived data: rebuilt on first use, never saved with a model.
        return {k: v for k, v in self.__dict__.items() if k != "_transposed"}


@dataclass
class TopK:
    """Each row's best partners: index[i, r] is row i's r-th best (-1 when none), score alike."""

    index: np.ndarray  # int64, shape (n, k)
    score: np.ndarray  # float32, shape (n, k)
    # With same_field: each row's best score among pairs that do not cross fields (0: none).
    same: np.ndarray | None = None


class Reuse:
    """Block products kept from one pass over a product for the next pass over the same blocks.

    Holds at most ``cells`` scored pairs (4 bytes each in a dense block, 12 in a sparse one);
    blocks beyond are scored again.
    """

    def __init__(self, cells: int = 8_000_000):
        self.room = cells
        self._kept: dict = {}

    def get(self, key):
        return self._kept.get(key)

    def put(self, key, product) -> None:
        size = product.size if isinstance(product, np.ndarray) else len(product[2])
        if size <= self.room:
            self.room -= size
            self._kept[key] = product


@dataclass
class _Block:
    rows: np.ndarray  # global row positions of the block
    cols: np.ndarray  # global column positions of the block's field group
    transposed: sp.csr_matrix  # the group's column vectors, transposed
    shared_orgs: bool  # whether any organization appears on both sides of the group
    group: object = None  # the field group's key, for Reuse

    def key(self, rows: Side, cols: Side, latent_weight: float) -> tuple:
        span = (int(self.rows[0]), len(self.rows), len(self.cols))
        return (id(rows.vectors), id(cols.vectors), self.group, span, latent_weight)


def top_k_both(
    rows: Side,
    cols: Side,
    k_rows: int,
    k_cols: int,
    min_score: float,
    scoring: Scoring | float,
    row_mask: np.ndarray | None = None,
    col_mask: np.ndarray | None = None,
    chunk_cells: int = 4_000_000,
    n_jobs: int = 1,
    same_field: bool = False,
    reuse: Reuse | None = None,
) -> tuple[TopK | None, TopK | None]:
    """Return the top k_rows columns of every row and the top k_cols rows of every column.

    ``scoring`` is a Scoring or a bare cross-field factor (0: a wall, 1: fields ignored). With
    ``same_field`` each TopK also holds every row's best score among pairs that do not cross
    fields. ``reuse`` keeps (or supplies) the block products; forked parts never use it.
    """
    scoring = Scoring.of(scoring)
    if rows.latent is None or cols.latent is None:
        scoring = Scoring(scoring.factor, scoring.power, 0.0, scoring.winner_power)
    n_rows, n_cols = rows.vectors.shape[0], cols.vectors.shape[0]
    row_best = _Best(n_rows, k_rows, same_field) if k_rows > 0 else None
    col_best = _Best(n_cols, k_cols, same_field) if k_cols > 0 else None
    blocks = list(_blocks(rows, cols, scoring.factor, row_mask, col_mask, chunk_cells))
    cells = sum(len(b.rows) * len(b.cols) for b in blocks)
    forked = n_jobs > 1 and len(blocks) >= 2 and cells >= PARALLEL_MIN_CELLS

    def score(block: _Block):
        product = None
        if reuse is not None and not forked:
            key = block.key(rows, cols, scoring.latent_weight)
            product = reuse.get(key)
            if product is None:
                product = _products(block, rows, cols, scoring.latent_weight)
                reuse.put(key, product)
        return _score_block(
            block, rows, cols, k_rows, k_cols, min_score, scoring, same_field, product
        )

    def run(part: list[_Block]) -> tuple[_Best | None, _Best | None]:
        own_rows = _Best(n_rows, k_rows, same_field) if k_rows > 0 else None
        own_cols = _Best(n_cols, k_cols, same_field) if k_cols > 0 else None
        for block in part:
            row_top, col_top = score(block)
            if row_top is not None:
                own_rows.merge(block.rows, *row_top)
            if col_top is not None:
                own_cols.merge(block.cols, *col_top)
        return own_rows, own_cols

    for part_rows, part_cols in _run_parts(run, blocks, forked, n_jobs):
        if part_rows is not None:
            row_best.absorb(part_rows)
        if part_cols is not None:
            col_best.absorb(part_cols)
    return (
        row_best.result() if row_best is not None else None,
        col_best.result() if col_best is not None else None,
    )


def _run_parts(run, blocks: list[_Block], forked: bool, n_jobs: int) -> list:
    """Run the blocks here or, for large products, in n_jobs forked parts."""
    if not forked:
        return [run(blocks)]
    # Interleave blocks so every part gets a share of each field group.
    parts = [blocks[i::n_jobs] for i in range(n_jobs)]
    return fork_calls([partial(run, part) for part in parts], n_jobs)


def _blocks(rows, cols, factor, row_mask, col_mask, chunk_cells) -> Iterator[_Block]:
    """Split the product into field groups (when cross-field pairs score 0) and row chunks."""
    all_rows = np.arange(rows.vectors.shape[0]) if row_mask is None else np.flatnonzero(row_mask)
    all_cols = np.arange(cols.vectors.shape[0]) if col_mask is None else np.flatnonzero(col_mask)
    if factor == 0:
        groups = []
        row_bits, col_bits = rows.fields[all_rows], cols.fields[all_cols]
        col_declared = col_bits.any(axis=1)
        sets, inverse = np.unique(row_bits, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        for g, bits in enumerate(sets):
            if not bits.any():
                group_cols, key = all_cols, "none"
            else:
                group_cols = all_cols[(col_bits & bits).any(axis=1) | ~col_declared]
                key = bits.tobytes()
            groups.append((all_rows[inverse == g], group_cols, key))
    else:
        groups = [(all_rows, all_cols, "all")]
    for group_rows, group_cols, key in groups:
        if len(group_rows) == 0 or len(group_cols) == 0:
            continue
        # Only whole field groups (no column mask) are the same from one query to the next.
        transposed = cols.transposed(key if col_mask is None else None, group_cols)
        row_orgs, col_orgs = rows.orgs[group_rows], cols.orgs[group_cols]
        shared = np.intersect1d(row_orgs[row_orgs >= 0], col_orgs[col_orgs >= 0]).size > 0
        step = max(1, chunk_cells // len(group_cols))
        for start in range(0, len(group_rows), step):
            yield _Block(group_rows[start : start + step], group_cols, transposed, shared, key)


def _products(block: _Block, rows, cols, latent_weight: float):
    """The block's nonzero scores as (local rows, local columns, values), or with a latent
    component (every pair scores) as a dense rows x columns grid."""
    product = (rows.vectors[block.rows] @ block.transposed).tocsr()
    if latent_weight <= 0:
        counts = np.diff(product.indptr)
        local_rows = np.repeat(np.arange(len(block.rows), dtype=np.int32), counts)
        return local_rows, product.indices, product.data.astype(np.float32, copy=False)
    # Every pair has a latent score: the block is dense (chunk_cells bounds its size).
    dense = rows.latent[block.rows] @ cols.latent[block.cols].T
    np.maximum(dense, 0, out=dense)
    dense *= np.float32(latent_weight)
    dense += np.float32(1 - latent_weight) * product.toarray()
    return dense.astype(np.float32, copy=False)


def _score_block(
    block: _Block, rows, cols, k_rows, k_cols, min_score, scoring: Scoring, same_field, product
):
    """Score one block; return its rows' and columns' top k as packed keys (and, with
    same_field, each row's and column's best score among pairs that do not cross fields)."""
    if product is None:
        product = _products(block, rows, cols, scoring.latent_weight)
    if isinstance(product, np.ndarray):
        args = (k_rows, k_cols, min_score, scoring, same_field, product)
        return score_dense(block, rows, cols, *args)
    local_rows, local_cols, values = product
    cross = None
    if same_field or (scoring.factor != 0 and not scoring.neutral):
        cross = crossing(rows.fields[block.rows][local_rows], cols.fields[block.cols][local_cols])
    if scoring.factor != 0 and not scoring.neutral:
        reference = None
        if scoring.relative and rows.best is not None and cols.best is not None:
            reference = np.maximum(
                rows.best[block.rows][local_rows], cols.best[block.cols][local_cols]
            )
        values = np.where(cross, scoring.cross(values, reference), values)
    keep = values >= max(min_score, np.finfo(np.float32).tiny)
    if block.shared_orgs:
        row_orgs = rows.orgs[block.rows][local_rows]
        keep &= (row_orgs != cols.orgs[block.cols][local_cols]) | (row_orgs < 0)
    row_same = col_same = None
    if same_field:
        within = keep & ~cross
        row_same = np.zeros(len(block.rows), dtype=np.float32)
        col_same = np.zeros(len(block.cols), dtype=np.float32)
        np.maximum.at(row_same, local_rows[within], values[within])
        np.maximum.at(col_same, local_cols[within], values[within])
    values, local_rows, local_cols = values[keep], local_rows[keep], local_cols[keep]
    bits = np.ascontiguousarray(values).view(np.int32).astype(np.int64) << 32
    row_top = col_top = None
    if k_rows > 0:
        indptr = np.zeros(len(block.rows) + 1, dtype=np.int64)
        np.cumsum(np.bincount(local_rows, minlength=len(block.rows)), out=indptr[1:])
        keys = bits | (_LOW - cols.order[block.cols][local_cols])
        top_keys, elements = _segment_top_k(indptr, keys, k_rows)
        partners = block.cols[local_cols[np.maximum(elements, 0)]]
        row_top = (top_keys, np.where(elements >= 0, partners, -1), row_same)
    if k_cols > 0:
        # A CSR matrix over (column, row) whose data are element numbers groups elements by column.
        by_col = sp.csr_matrix(
            (np.arange(1, len(values) + 1), (local_cols, local_rows)),
            shape=(len(block.cols), len(block.rows)),
        )
        order = by_col.data - 1
        row_of = block.rows[local_rows[order]]
        keys = bits[order] | (_LOW - rows.order[row_of])
        top_keys, elements = _segment_top_k(by_col.indptr.astype(np.int64), keys, k_cols)
        col_top = (
            top_keys,
            np.where(elements >= 0, row_of[np.maximum(elements, 0)], -1),
            col_same,
        )
    return row_top, col_top


# Segments longer than this many times k are first cut down (see _candidates).
_PREFILTER_FACTOR = 32
_SAMPLE_FACTOR = 8


def _segment_top_k(indptr: np.ndarray, keys: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per segment of keys (CSR layout), the k largest keys and their element numbers (-1: none)."""
    counts = np.diff(indptr)
    n_segments = len(counts)
    width = int(counts.max()) if n_segments and len(keys) else 0
    if width == 0:
        return np.zeros((n_segments, 0), np.int64), np.zeros((n_segments, 0), np.int64)
    segment = np.repeat(np.arange(n_segments), counts)
    original = np.arange(len(keys))
    # A few rounds at most: each one's sample is drawn from the survivors of the last.
    for _ in range(3):
        if width <= _PREFILTER_FACTOR * k:
            break
        kept = _candidates(indptr, keys, segment, k)
        keys, segment, original = keys[kept], segment[kept], original[kept]
        counts = np.bincount(segment, minlength=n_segments)
        indptr = np.zeros(n_segments + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        width = int(counts.max())
    position = np.arange(len(keys)) - indptr[:-1][segment]
    padded = np.zeros((n_segments, width), dtype=np.int64)
    padded[segment, position] = keys
    if width > k:
        picked = np.argpartition(padded, width - k, axis=1)[:, width - k :]
        top = np.take_along_axis(padded, picked, axis=1)
    else:
        picked = np.broadcast_to(np.arange(width), (n_segments, width))
        top = padded
    elements = np.where(top > 0, indptr[:-1, None] + picked, -1)
    return top, np.where(elements >= 0, original[np.maximum(elements, 0)], -1)


def _candidates(indptr, keys, segment, k) -> np.ndarray:
    """Elements whose key is at least the k-th largest of their segment's first few keys.

    The k-th largest key of any part of a segment is at most the k-th largest of the whole, so
    every element of the true top k is kept; of the rest, usually only a small share is.
    """
    size = _SAMPLE_FACTOR * k
    position = np.arange(len(keys)) - indptr[:-1][segment]
    sampled = np.flatnonzero(position < size)
    sample = np.zeros((len(indptr) - 1, size), dtype=np.int64)
    sample[segment[sampled], position[sampled]] = keys[sampled]
    kth = np.partition(sample, size - k, axis=1)[:, size - k]
    return np.flatnonzero(keys >= kth[segment])


class _Best:
    """A running best k per position, as packed keys (0 = empty) and partner positions, and
    (same_field) the best score among pairs that do not cross fields."""

    def __init__(self, n: int, k: int, same_field: bool = False):
        self.k = k
        self.keys = np.zeros((n, k), dtype=np.int64)
        self.partners = np.full((n, k), -1, dtype=np.int64)
        self.same = np.zeros(n, dtype=np.float32) if same_field else None

    def merge(self, positions, keys: np.ndarray, partners: np.ndarray, same=None) -> None:
        if same is not None:
            np.maximum(self.same[positions], same, out=same)
            self.same[positions] = same
        if keys.shape[1] == 0:
            return
        keys = np.concatenate([self.keys[positions], keys], axis=1)
        partners = np.concatenate([self.partners[positions], partners], axis=1)
        width = keys.shape[1]
        picked = np.argpartition(keys, width - self.k, axis=1)[:, width - self.k :]
        self.keys[positions] = np.take_along_axis(keys, picked, axis=1)
        self.partners[positions] = np.take_along_axis(partners, picked, axis=1)

    def absorb(self, other: _Best) -> None:
        """Merge another running best (over the same positions) into this one."""
        filled = np.flatnonzero(other.keys.any(axis=1))
        self.merge(filled, other.keys[filled], other.partners[filled])
        if self.same is not None:
            np.maximum(self.same, other.same, out=self.same)

    def result(self) -> TopK:
        order = np.argsort(-self.keys, axis=1, kind="stable")
        keys = np.take_along_axis(self.keys, order, axis=1)
        partners = np.take_along_axis(self.partners, order, axis=1)
        scores = (keys >> 32).astype(np.int32).view(np.float32)
        partners[keys == 0] = -1
        return TopK(partners, np.where(keys > 0, scores, np.float32(0)), self.same)
