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
and nearly absent where texts do and fields often disagree with them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import prior
from .fields import crossing


@dataclass(frozen=True)
class FieldTrust:
    """The fitted corpus's share of mutual clear winners (clear) and their field crossing ratio."""

    clear: float = 0.5
    crossing: float = 1.0

    def winner_power(self, base: float) -> float:
        """The exponent of the prior's winner rule: base x odds against a clear partner / ρ."""
        return base * (1 - self.clear) / self.clear / self.crossing

    @property
    def reference_scale(self) -> float:
        """A cross-field pair must reach its reference divided by τ to keep its text score."""
        return 1 / self.clear


def fitted_bests(matcher) -> tuple[dict, FieldTrust]:
    """A fitted matcher's row bests per kind (prior.row_bests, on the scored vectors) and trust."""
    needs, achievements = matcher._scoring_side("need"), matcher._scoring_side("achievement")
    cfg = matcher.config
    need_bests, ach_bests, partners = prior.row_bests(
        needs,
        achievements,
        matcher.latent_weight(),
        cfg.min_score,
        cfg.chunk_cells,
        matcher.n_jobs,
    )
    fields = (needs.fields, achievements.fields)
    trust = fit_trust(need_bests[0], ach_bests[0], partners, *fields, cfg.outlier_sd)
    return {"need": need_bests, "achievement": ach_bests}, trust


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
    share = crossing_share(need_fields, ach_fields)
    ratio = (crossed + 1) / (found + 2) / share if share > 0 else 1.0
    return FieldTrust((found + 1) / (min(n_needs, n_achs) + 2), ratio)


def _clear(top: np.ndarray, outlier_sd: float) -> np.ndarray:
    """Whether each row's best score stands out from its runners-up (is its own winner level)."""
    top = np.asarray(top, dtype=np.float32)
    return (top[:, 0] > 0) & (prior.level(top, outlier_sd) <= top[:, 0])


def crossing_share(left: np.ndarray, right: np.ndarray) -> float:
    """The share of all (left, right) pairs that cross fields, counted per distinct field set."""
    if len(left) == 0 or len(right) == 0:
        return 0.0
    left_sets, left_counts = np.unique(left, axis=0, return_counts=True)
    right_sets, right_counts = np.unique(right, axis=0, return_counts=True)
    li = np.repeat(np.arange(len(left_sets)), len(right_sets))
    ri = np.tile(np.arange(len(right_sets)), len(left_sets))
    crossed = crossing(left_sets[li], right_sets[ri]).reshape(len(left_sets), len(right_sets))
    pairs = left_counts.astype(np.float64) @ crossed @ right_counts.astype(np.float64)
    return float(pairs) / (len(left) * len(right))
