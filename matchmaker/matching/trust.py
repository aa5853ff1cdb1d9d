"""How far a fitted corpus's texts may overrule its declared fields: the field prior's strength.

Two statistics of the fitted listings' scores before the prior, both with the rule of
succession so that a small corpus stays near the middle:

- ``clear`` (τ): the share of the smaller side's listings that have a mutual clear winner, a
  partner that is its closest and has it as its closest, each standing out from its runners-up
  (prior.level). Where text alone pairs listings off (a title and its own abstract) τ is near 1;
  where the closest partner is one of a crowd (short titles) it is low, and a "winner" is chance.
- ``crossing`` (ρ): how much likelier such a mutual pair crosses fields than a random pair of
  the two sides. Near 0 the declared fields agree with what the text pairs off; near 1 they say
  nothing about it (posters pick fields the other side would not).

A cross-field pair keeps score * min(1, score / (reference / τ)) ** winner_power with
winner_power = base * (1 - τ) / τ / ρ (prior.Scoring): the odds against a listing having a
clear partner, divided by how far fields can be trusted to say where partners are. So the prior
is a near wall where either the texts do not single partners out or the fields are reliable,
and nearly absent where texts do and fields often disagree with them. match_listing counts a
new listing's fields in the share of crossing pairs as a refit would (the first listing of a new
field can move it far in a small corpus); τ and the winners' crossing share stay as fitted (one
listing moves them by about 1 / n).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import prior
from .fields import crossing, crossing_grid, widen
from .search import orient, other


@dataclass(frozen=True, eq=False)
class FieldTrust:
    """A fitted corpus's share of mutual clear winners (clear, τ), the smoothed share of them
    that cross fields (crossed) and the field sets of both sides (sets: per side, the distinct
    bit rows and their counts), from which the share of all pairs that cross is taken."""

    clear: float = 0.5
    crossed: float = 0.5
    sets: tuple = ()
    share: float = 0.0  # of all pairs of the two sides, those that cross fields (from sets)

    @classmethod
    def of(cls, clear: float, crossed: float, sets: tuple) -> FieldTrust:
        """The trust with its share of crossing pairs taken from the sides' field sets."""
        return cls(clear, crossed, sets, _share(*sets))

    @property
    def crossing(self) -> float:
        """ρ: how much likelier a mutual clear winner crosses fields than a random pair."""
        return self.crossed / self.share if self.share > 0 else 1.0

    def winner_power(self, base: float) -> float:
        """The exponent of the prior's winner rule: base x odds against a clear partner / ρ."""
        return base * (1 - self.clear) / self.clear / self.crossing

    @property
    def reference_scale(self) -> float:
        """A cross-field pair must reach its reference divided by τ to keep its text score."""
        return 1 / self.clear

    def with_listings(self, added: tuple, removed: tuple) -> FieldTrust:
        """The trust with listings' field bits added to and removed from each side (need,
        achievement), as a refit would count the sides' fields; τ and the winners' share stay."""
        if not self.sets:
            return self
        sets = []
        for (rows, counts), plus, minus in zip(self.sets, added, removed, strict=True):
            width = max(rows.shape[1], plus.shape[1], minus.shape[1])
            every = np.vstack([widen(rows, width), widen(plus, width), widen(minus, width)])
            weights = np.concatenate([counts, np.ones(len(plus)), -np.ones(len(minus))])
            unique, inverse = np.unique(every, axis=0, return_inverse=True)
            total = np.bincount(inverse.ravel(), weights=weights, minlength=len(unique))
            sets.append((unique[total > 0], total[total > 0]))
        return FieldTrust.of(self.clear, self.crossed, tuple(sets))


def fitted_bests(matcher, reuse=None) -> tuple[dict, FieldTrust]:
    """A fitted matcher's row bests per kind (prior.row_bests, on the scored vectors) and trust.

    Scored in a whole ranking's orientation (search.orient), so that ``reuse`` can hand the
    block products on to that ranking.
    """
    sides = {k: matcher._scoring_side(k) for k in ("need", "achievement")}
    rows = orient(sides, {"need": None, "achievement": None})
    cfg = matcher.config
    row_bests, col_bests, (row_partner, col_partner) = prior.row_bests(
        sides[rows],
        sides[other(rows)],
        matcher.latent_weight(),
        cfg.min_score,
        cfg.chunk_cells,
        matcher.n_jobs,
        reuse,
    )
    bests = {rows: row_bests, other(rows): col_bests}
    partners = {rows: row_partner, other(rows): col_partner}
    trust = fit_trust(
        bests["need"][0],
        bests["achievement"][0],
        (partners["need"], partners["achievement"]),
        sides["need"].fields,
        sides["achievement"].fields,
        cfg.outlier_sd,
    )
    return bests, trust


def fit_trust(need_top, ach_top, partners, need_fields, ach_fields, outlier_sd) -> FieldTrust:
    """The trust of a fitted corpus from both sides' top scores before the prior (prior.row_bests).

    need_top / ach_top: each listing's best 1 + OUTLIER_RANKS scores; partners: each side's
    closest partner position (-1: none); *_fields: the sides' field bit sets.
    """
    need_best, ach_best = (np.asarray(p, dtype=np.int64) for p in partners)
    n_needs, n_achs = len(need_best), len(ach_best)
    if n_needs == 0 or n_achs == 0:
        return FieldTrust()
    need_clear, ach_clear = _clear(need_top, outlier_sd), _clear(ach_top, outlier_sd)
    partner = np.maximum(need_best, 0)
    mutual = (
        (need_best >= 0)
        & need_clear
        & ach_clear[partner]
        & (ach_best[partner] == np.arange(n_needs))
    )
    found = int(mutual.sum())
    crossed = int(crossing(need_fields[mutual], ach_fields[partner[mutual]]).sum())
    sets = tuple(_sets(bits) for bits in (need_fields, ach_fields))
    clear = (found + 1) / (min(n_needs, n_achs) + 2)
    return FieldTrust.of(clear, (crossed + 1) / (found + 2), sets)


def _clear(top: np.ndarray, outlier_sd: float) -> np.ndarray:
    """Whether each row's best score stands out from its runners-up (is its own winner level)."""
    top = np.asarray(top, dtype=np.float32)
    return (top[:, 0] > 0) & (prior.level(top, outlier_sd) <= top[:, 0])


def _sets(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A side's distinct field bit rows and how many listings declare each."""
    rows, counts = np.unique(bits, axis=0, return_counts=True)
    return rows, counts.astype(np.float64)


def _share(left: tuple, right: tuple) -> float:
    """The share of all (left, right) pairs that cross fields, from both sides' field sets."""
    (left_sets, left_counts), (right_sets, right_counts) = left, right
    total = left_counts.sum() * right_counts.sum()
    if total == 0:
        return 0.0
    crossed = crossing_grid(left_sets, right_sets).astype(np.float64)
    return float(left_counts @ crossed @ right_counts) / float(total)
