"""Top k of a dense score block: with a latent component every pair has a score, so a block is a
full rows x columns grid and each row's and column's best are partitions along its axes.

Scores and ties are packed into int64 keys as in ranking.py (the float32 score's bits, then the
partner's position in id order reversed; 0 = no pair), so both paths pick the same pairs.
"""

from __future__ import annotations

import numpy as np

from .fields import crossing_grid

# Ids in sorted order are packed reversed, so the smaller id wins a tie.
LOW = 2**31 - 1


def score_dense(block, rows, cols, k_rows, k_cols, min_score, scoring, same_field, grid):
    """ranking._score_block for a dense grid of the block's scores before the prior."""
    row_fields, col_fields = rows.fields[block.rows], cols.fields[block.cols]
    prior_on = scoring.factor != 0 and not scoring.neutral
    cross = crossing_grid(row_fields, col_fields) if same_field or prior_on else None
    values = grid
    if prior_on:
        reference = None
        if scoring.relative and rows.best is not None and cols.best is not None:
            reference = np.maximum(rows.best[block.rows][:, None], cols.best[block.cols][None, :])
            reference = reference[cross]
        values = grid.copy()
        values[cross] = scoring.cross(grid[cross], reference)
    keep = values >= max(min_score, np.finfo(np.float32).tiny)
    if block.shared_orgs:
        row_orgs = rows.orgs[block.rows][:, None]
        keep &= (row_orgs != cols.orgs[block.cols][None, :]) | (row_orgs < 0)
    row_same = col_same = None
    if same_field:
        within = np.where(keep & ~cross, values, np.float32(0))
        row_same, col_same = within.max(axis=1), within.max(axis=0)
    bits = np.where(keep, values, np.float32(0)).view(np.int32).astype(np.int64) << 32
    row_top = col_top = None
    if k_rows > 0:
        keys = np.where(keep, bits | (LOW - cols.order[block.cols])[None, :], 0)
        top, picked = _top_along(keys, k_rows)
        row_top = (top, np.where(top > 0, block.cols[picked], -1), row_same)
    if k_cols > 0:
        keys = np.where(keep, bits | (LOW - rows.order[block.rows])[:, None], 0).T
        top, picked = _top_along(keys, k_cols)
        col_top = (top, np.where(top > 0, block.rows[picked], -1), col_same)
    return row_top, col_top


def _top_along(keys: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k largest keys (unordered; 0 where none) and their column positions.

    A row's k-th largest key among its first _SAMPLE columns is at most its true k-th largest,
    so only keys at least that large are candidates: a partition of a few percent of the grid
    instead of all of it.
    """
    n, width = keys.shape
    if width <= k:
        return keys, np.broadcast_to(np.arange(width), keys.shape)
    size = _SAMPLE * k
    if width > 4 * size:
        kth = np.partition(keys[:, :size], size - k, axis=1)[:, size - k]
        rows, cols = np.nonzero(keys >= np.maximum(kth, 1)[:, None])
        counts = np.bincount(rows, minlength=n)
        if counts.max() < width // 2:
            return _top_of_candidates(keys, rows, cols, counts, k)
    picked = np.argpartition(keys, width - k, axis=1)[:, width - k :]
    return np.take_along_axis(keys, picked, axis=1), picked


_SAMPLE = 8


def _top_of_candidates(keys, rows, cols, counts, k) -> tuple[np.ndarray, np.ndarray]:
    """The k largest keys per row among its candidates (given row-major, as np.nonzero does)."""
    n, wide = len(counts), max(int(counts.max()), k)
    place = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    padded = np.zeros((n, wide), dtype=np.int64)
    columns = np.zeros((n, wide), dtype=np.int64)
    padded[rows, place] = keys[rows, cols]
    columns[rows, place] = cols
    picked = np.argpartition(padded, wide - k, axis=1)[:, wide - k :]
    return np.take_along_axis(padded, picked, axis=1), np.take_along_axis(columns, picked, axis=1)
