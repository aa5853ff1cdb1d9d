"""The field prior: how sharing no declared field changes a pair's score.

A pair whose listings both declare fields but share none scores
max(score ** power, score * min(1, score / reference) ** winner_power), the reference being the
larger of the two listings' reference scores. A listing's reference is its winner level
(level(): its best score before the prior, or the mean + outlier_sd (3) standard deviations of
its next OUTLIER_RANKS (10) scores when that is higher), or clear_factor times its best score
among pairs that do not cross fields, when that is lower. So a cross-field partner keeps its
text score when it is the listing's closest by a statistical margin (an outlier among the
listing's candidates, as a title's own abstract is), or when it is clearly (clear_factor = 2:
twice) closer than anything within the listing's own fields; a cross-field "winner" that merely
leads a crowd of about as close candidates (noise between short titles) falls like the rest.
Measured (nDCG@10; before: the best score itself as the level): csl-short-titles-dev .316
(.302), csl-title-fieldnoise-dev .984 / R@10 .992 (the same), csl-title .768 (.768),
csl-keywords .765 (.764); with power 10 instead of 5 (MatchConfig.cross_field_power) short
titles .319, the rest unchanged. The form: a z-score against the runners-up is scale-free
(title pairs and title-abstract pairs score on different scales), k = 10 and 3 sd are round
values; 2 / 4 sd gave short titles .305 / .320 and fieldnoise .984 / .981, the runners-up's
level alone (the best may sit below it and keep its score beside others) cost title and
keywords .005.
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


# A listing's outlier level is measured against its scores at ranks 2 to 1 + OUTLIER_RANKS.
OUTLIER_RANKS = 10


def level(top: np.ndarray, outlier_sd: float) -> np.ndarray:
    """Each row's winner level: its best score, or its runners-up's mean + outlier_sd x their
    standard deviation when higher (top: each row's best 1 + OUTLIER_RANKS scores, best first)."""
    top = np.asarray(top, dtype=np.float32)
    if top.ndim == 1 or outlier_sd <= 0:
        return top if top.ndim == 1 else top[:, 0].copy()
    rest = top[:, 1:]
    spread = rest.mean(axis=1) + np.float32(outlier_sd) * rest.std(axis=1)
    return np.maximum(top[:, 0], spread).astype(np.float32)


def merge_top(top: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Each row's best scores with one more score per row merged in (same width)."""
    both = np.concatenate([top, np.asarray(scores, np.float32).reshape(-1, 1)], axis=1)
    return -np.sort(-both, axis=1)[:, : top.shape[1]]


def reference(best: np.ndarray, same: np.ndarray, clear_factor: float) -> np.ndarray:
    """Each row's reference: its best score, or clear_factor times its best same-field score."""
    if clear_factor <= 0:
        return best
    return np.minimum(best, np.float32(clear_factor) * same).astype(np.float32)


def row_bests(
    rows, cols, latent_weight: float, min_score: float, chunk_cells: int, n_jobs=1, reuse=None
):
    """Per side, each row's best score before the prior and its best among non-crossing pairs.

    Returns ((row top, row same), (col top, col same)), a top being each row's best
    1 + OUTLIER_RANKS scores (best first, 0 where none) and same its best same-field score; one
    pass over the product (``reuse`` keeps its blocks for the ranking that follows).
    """
    from .ranking import top_k_both

    k = 1 + OUTLIER_RANKS
    row_top, col_top = top_k_both(
        rows,
        cols,
        k,
        k,
        min_score,
        Scoring(1.0, 1.0, latent_weight),
        chunk_cells=chunk_cells,
        n_jobs=n_jobs,
        same_field=True,
        reuse=reuse,
    )
    return (
        (columns(row_top.score, rows.vectors.shape[0]), row_top.same),
        (columns(col_top.score, cols.vectors.shape[0]), col_top.same),
    )


def first_column(scores: np.ndarray, n: int) -> np.ndarray:
    """The top-1 column of a top-k score array (zeros when k is 0)."""
    if scores.shape[1] == 0:
        return np.zeros(n, dtype=np.float32)
    return np.ascontiguousarray(scores[:, 0], dtype=np.float32)


def columns(scores: np.ndarray, n: int, width: int = 1 + OUTLIER_RANKS) -> np.ndarray:
    """A top-k score array padded with zeros (or cut) to width columns."""
    out = np.zeros((n, width), dtype=np.float32)
    take = min(width, scores.shape[1])
    out[:, :take] = scores[:, :take]
    return out
