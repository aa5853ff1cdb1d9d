"""Choose which pairs meet at a fair: maximum total score under listing and organization quotas.

Pure module (numpy/scipy only). Each listing and each organization may take part in a limited
number of meetings; an organization never meets itself; pairs asked for (must-meet) are taken
whenever the quotas allow. Listing quotas and organization quotas on both sides make this more
than a bipartite b-matching, so it is solved as an integer program with HiGHS
(`scipy.optimize.milp`). `greedy_assign` is the baseline the optimum is reported against.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csr_array, vstack


@dataclass(frozen=True)
class Candidate:
    """A pair that may meet: its id, both listings, both organizations and its score."""

    pair_id: int
    need_id: int
    achievement_id: int
    need_org: Hashable
    achievement_org: Hashable
    score: float
    must_meet: bool = False


@dataclass(frozen=True)
class Quotas:
    """How many meetings each listing and organization may have (None = no limit)."""

    default_listing: int | None = 5
    listing: Mapping[tuple[str, int], int] = field(
        default_factory=dict
    )  # ("need"|"achievement", id)
    default_org: int | None = None
    org: Mapping[Hashable, int] = field(default_factory=dict)
    total: int | None = None  # meetings the venue can hold (slots × tables)

    def for_listing(self, kind: str, listing_id: int) -> int | None:
        return self.listing.get((kind, listing_id), self.default_listing)

    def for_org(self, org: Hashable) -> int | None:
        return self.org.get(org, self.default_org)


@dataclass
class Assignment:
    """The chosen pairs and what they are worth."""

    pair_ids: list[int]
    objective: float
    must_meet_missed: list[int]
    method: str
    optimal: bool
    seconds: float


def _resources(c: Candidate) -> tuple[Hashable, ...]:
    return (
        ("need", c.need_id),
        ("achievement", c.achievement_id),
        ("org", c.need_org),
        ("org", c.achievement_org),
    )


def _limit(quotas: Quotas, resource: tuple) -> int | None:
    kind, key = resource
    if kind == "org":
        return quotas.for_org(key)
    return quotas.for_listing(kind, key)


def _eligible(candidates: Iterable[Candidate], excluded: set[int]) -> list[Candidate]:
    seen: set[int] = set()
    out = []
    for c in candidates:
        if c.pair_id in excluded or c.pair_id in seen or c.need_org == c.achievement_org:
            continue
        seen.add(c.pair_id)
        out.append(c)
    return out


def _remaining(quotas: Quotas, fixed: list[Candidate]) -> tuple[dict, int | None]:
    """Capacity left on every resource once the fixed (confirmed) meetings are counted."""
    used: dict = {}
    for c in fixed:
        for r in set(_resources(c)):
            used[r] = used.get(r, 0) + 1
    left = {r: n for r, n in used.items()}
    total = None if quotas.total is None else max(0, quotas.total - len(fixed))
    return left, total


def _objective(chosen: list[Candidate]) -> float:
    return float(sum(c.score for c in chosen))


def greedy_assign(
    candidates: Iterable[Candidate],
    quotas: Quotas,
    excluded: Iterable[int] = (),
    fixed: Iterable[int] = (),
) -> Assignment:
    """Take pairs best score first (must-meet pairs before all others) while quotas allow."""
    # One function on purpose (~60 lines): the LP, its integer fallback and the greedy guard
    # share the same weights, matrix and bounds, and each exit reports how it was solved.
    start = time.perf_counter()
    fixed_ids = set(fixed)
    pool = _eligible(candidates, set(excluded))
    pinned = [c for c in pool if c.pair_id in fixed_ids]
    used, total = _remaining(quotas, pinned)
    chosen = list(pinned)
    order = sorted(
        (c for c in pool if c.pair_id not in fixed_ids),
        key=lambda c: (not c.must_meet, -c.score, c.pair_id),
    )
    for c in order:
        if total is not None and total <= 0:
            break
        resources = set(_resources(c))
        if all((lim := _limit(quotas, r)) is None or used.get(r, 0) < lim for r in resources):
            for r in resources:
                used[r] = used.get(r, 0) + 1
            if total is not None:
                total -= 1
            chosen.append(c)
    chosen_ids = {c.pair_id for c in chosen}
    return Assignment(
        pair_ids=sorted(chosen_ids),
        objective=_objective(chosen),
        must_meet_missed=sorted(
            c.pair_id for c in pool if c.must_meet and c.pair_id not in chosen_ids
        ),
        method="greedy",
        optimal=False,
        seconds=time.perf_counter() - start,
    )


def _solve(weight, matrix, upper, time_limit: float):
    """The LP relaxation by dual simplex; its answer when integral (then it is the ILP optimum).

    Listing and organization capacities on each side are nested, so the LP is usually integral
    and ten times quicker than branch and bound.
    """
    result = linprog(
        -weight,
        A_ub=matrix,
        b_ub=upper,
        bounds=(0, 1),
        method="highs-ds",
        options={"time_limit": time_limit},
    )
    if result.status != 0 or result.x is None:
        return None
    x = result.x
    if np.any((x > 1e-6) & (x < 1 - 1e-6)):
        return None
    return x


def _solve_integer(weight, matrix, upper, time_limit: float):
    """Branch and bound (HiGHS MILP); returns (x or None, proven optimal)."""
    result = milp(
        -weight,
        integrality=np.ones(len(weight)),
        bounds=Bounds(0, 1),
        constraints=[LinearConstraint(matrix, -np.inf, upper)],
        options={"time_limit": time_limit, "disp": False},
    )
    return result.x, result.status == 0


def _weight(pair_ids, free, weight) -> float:
    """What the solver maximises (must-meet weight included) for a set of free pairs."""
    ids = set(pair_ids)
    return float(sum(w for c, w in zip(free, weight, strict=True) if c.pair_id in ids))


def _quota_rows(free: list, quotas: Quotas) -> tuple[dict, list[int], list[int]]:
    """One constraint row per limited resource: (row of each resource, row and column indices)."""
    rows: dict = {}
    row_idx, col_idx = [], []
    for j, c in enumerate(free):
        for r in set(_resources(c)):
            if _limit(quotas, r) is None:
                continue
            row_idx.append(rows.setdefault(r, len(rows)))
            col_idx.append(j)
    return rows, row_idx, col_idx


def assign(
    candidates: Iterable[Candidate],
    quotas: Quotas,
    excluded: Iterable[int] = (),
    fixed: Iterable[int] = (),
    time_limit: float = 20.0,
    prefer: Iterable[int] = (),
) -> Assignment:
    """Choose the pairs of maximum total score within the quotas (an ILP, solved by HiGHS).

    `fixed` pairs (confirmed meetings) are kept and use up quota; `excluded` pairs never meet.
    Must-meet pairs carry a weight above the sum of all scores, so as many of them as the quotas
    allow are taken first and the score is maximised among those choices. Among plans of equal
    score, `prefer`red pairs (meetings already announced) win, so a re-run does not reshuffle.
    """
    # One function on purpose (~60 lines): the LP, its integer fallback and the greedy guard
    # share the same weights, matrix and bounds, and each exit reports how it was solved.
    start = time.perf_counter()
    fixed_ids = set(fixed)
    pool = _eligible(candidates, set(excluded))
    pinned = [c for c in pool if c.pair_id in fixed_ids]
    free = [c for c in pool if c.pair_id not in fixed_ids]
    used, total = _remaining(quotas, pinned)
    rows, row_idx, col_idx = _quota_rows(free, quotas)
    upper = np.array([max(0, _limit(quotas, r) - used.get(r, 0)) for r in rows], dtype=float)
    n = len(free)
    chosen = list(pinned)
    optimal, method = True, "lp"
    if n:
        scores = np.array([c.score for c in free], dtype=float)
        bonus = float(scores.sum()) + 1.0
        weight = scores + bonus * np.array([c.must_meet for c in free], dtype=float)
        preferred = set(prefer)
        if preferred:  # far below any score difference that matters, enough to break ties
            weight += 1e-6 * np.array([c.pair_id in preferred for c in free], dtype=float)
        matrix = csr_array((np.ones(len(row_idx)), (row_idx, col_idx)), shape=(len(rows), n))
        if total is not None:
            matrix = vstack([matrix, csr_array(np.ones((1, n)))]).tocsr()
            upper = np.append(upper, float(total))
        x = _solve(weight, matrix, upper, time_limit) if matrix.shape[0] else np.ones(n)
        if x is None:
            method = "milp"
            x, optimal = _solve_integer(weight, matrix, upper, time_limit)
        if x is None or not optimal:  # time ran out: never worse than the greedy answer
            fallback = greedy_assign(pool, quotas, fixed=fixed_ids)
            found = (
                [] if x is None else [c.pair_id for c, v in zip(free, x, strict=True) if v > 0.5]
            )
            if x is None or _weight(fallback.pair_ids, free, weight) > _weight(found, free, weight):
                fallback.method = "greedy-fallback"
                fallback.seconds = time.perf_counter() - start
                return fallback
        chosen += [c for c, v in zip(free, x, strict=True) if v > 0.5]
    chosen_ids = {c.pair_id for c in chosen}
    return Assignment(
        pair_ids=sorted(chosen_ids),
        objective=_objective(chosen),
        must_meet_missed=sorted(
            c.pair_id for c in pool if c.must_meet and c.pair_id not in chosen_ids
        ),
        method=method,
        optimal=optimal,
        seconds=time.perf_counter() - start,
    )
