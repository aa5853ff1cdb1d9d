"""Row-wise sparse helpers shared by fitting, feedback and incremental scoring."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def normalize_rows(matrix) -> sp.csr_matrix:
    """Scale each row to unit length (empty rows stay empty)."""
    matrix = sp.csr_matrix(matrix)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ matrix)


def top_per_row(matrix, n: int, chunk_cells: int = 8_000_000) -> sp.csr_matrix:
    """Keep the n largest entries of each row (entries tied with the n-th stay)."""
    matrix = sp.csr_matrix(matrix)
    counts = np.diff(matrix.indptr)
    if n <= 0 or counts.max(initial=0) <= n:
        return matrix
    keep = np.ones(matrix.nnz, dtype=bool)
    heavy = np.flatnonzero(counts > n)
    step = max(1, chunk_cells // int(counts.max()))
    for start in range(0, len(heavy), step):
        rows = heavy[start : start + step]
        sizes = counts[rows]
        segment = np.repeat(np.arange(len(rows)), sizes)
        position = np.arange(len(segment)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        elements = np.repeat(matrix.indptr[rows], sizes) + position
        padded = np.full((len(rows), int(sizes.max())), -np.inf, dtype=np.float64)
        padded[segment, position] = matrix.data[elements]
        width = padded.shape[1]
        kth = np.partition(padded, width - n, axis=1)[:, width - n]
        keep[elements] = matrix.data[elements] >= kth[segment]
    row_of = np.repeat(np.arange(matrix.shape[0]), counts)
    indptr = np.zeros(matrix.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of[keep], minlength=matrix.shape[0]), out=indptr[1:])
    return sp.csr_matrix((matrix.data[keep], matrix.indices[keep], indptr), shape=matrix.shape)
