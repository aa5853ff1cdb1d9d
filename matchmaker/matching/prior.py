"""The field prior: how sharing no declared field changes a pair's score.

A pair whose listings both declare fields but share none scores
max(score ** power, score * min(1, score / reference) ** winner_power), the reference being the
larger of the two listings' reference scores. A listing's reference is its best score before the
prior, or clear_factor times its best score among pairs that do not cross fields, when that is
lower. So a cross-field partner keeps its text score when it is the listing's closest, or when it
is clearly (clear_factor = 2: twice) closer than anything within the listing's own fields: a
need filed under the wrong field still finds its partners near the top, while a cross-field
candidate that is only about as close as the same-field ones falls steeply. Measured on
csl-title-fieldnoise-dev (a quarter of the needs filed under another field): R@10 .992 with the
clear-factor term (.990 without), nDCG@10 .984 (.983); csl-title/keywords unchanged, short
titles .302 (.305). Factors 1.25/1.5 protected more (short titles .296/.300, fieldnoise the
same); the winner's lead over the runner-up as the test instead cost fieldnoise .003.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Scoring:
    """How a pair's score is made from its vectors and fields.

    score = (1 - latent_weight) * cosine + latent_weight * max(latent cosine, 0); a pair whose
    listings both declare fields but share none then scores factor * score ** power (the field
    prior: a weak text match across fields drops far). With ``winner_power`` > 0 the prior never
    hides a clear winner: a cross-field pair scores at least score * (score / reference) **
    winner_power, the reference being the larger of both listings' reference scores (Side.best,
    see the module docstring). A factor of 0 is a wall: such pairs are never scored.
    """

    factor: float = 1.0
    power: float = 1.0
    latent_weight: float = 0.0
    winner_power: float = 0.0

    @property
    def relative(self) -> bool:
        """Whether cross-field scores need each row's reference score (Side.best)."""
        return self.winner_power > 0 and self.factor != 0 and not self.neutral

    @classmethod
    def of(cls, value) -> Scoring:
        """A Scoring from itself or from a bare cross-field factor."""
        return value if isinstance(value, Scoring) else cls(factor=float(value))

    @property
    def neutral(self) -> bool:
        return self.factor == 1 and self.power == 1

    def cross(self, values: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
        """The scores of cross-field pairs (reference: the larger reference score of both rows)."""
        prior = values
        if self.power != 1:
            # Length-normalised scores can pass 1; the prior must still only lower them.
            capped = np.minimum(values, np.float32(1))
            prior = values * np.power(capped, np.float32(self.power - 1))
        prior = (prior * np.float32(self.factor)).astype(np.float32, copy=False)
        if reference is not None and self.winner_power > 0:
            ratio = np.minimum(values / np.maximum(reference, np.float32(1e-9)), 1)
            kept = values * np.power(ratio, np.float32(self.winner_power))
            prior = np.maximum(prior, kept).astype(np.float32, copy=False)
        return prior


def reference(best: np.ndarray, same: np.ndarray, clear_factor: float) -> np.ndarray:
    """Each row's reference: its best score, or clear_factor times its best same-field score."""
    if clear_factor <= 0:
        return best
    return np.minimum(best, np.float32(clear_factor) * same).astype(np.float32)


def row_bests(rows, cols, latent_weight: float, min_score: float, chunk_cells: int, n_jobs=1):
    """Per side, each row's best score before the prior and its best among non-crossing pairs.

    Returns ((row best, row same), (col best, col same)); two top-1 passes, the second split by
    field like a wall (cheap).
    """
    from .ranking import top_k_both

    out = []
    for factor in (1.0, 0.0):
        row_top, col_top = top_k_both(
            rows,
            cols,
            1,
            1,
            min_score,
            Scoring(factor, 1.0, latent_weight),
            chunk_cells=chunk_cells,
            n_jobs=n_jobs,
        )
        out.append(
            (
                first_column(row_top.score, rows.vectors.shape[0]),
                first_column(col_top.score, cols.vectors.shape[0]),
            )
        )
    return (out[0][0], out[1][0]), (out[0][1], out[1][1])


def first_column(scores: np.ndarray, n: int) -> np.ndarray:
    """The top-1 column of a top-k score array (zeros when k is 0)."""
    if scores.shape[1] == 0:
        return np.zeros(n, dtype=np.float32)
    return np.ascontiguousarray(scores[:, 0], dtype=np.float32)
