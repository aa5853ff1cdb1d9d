"""The fair solvers alone: assignment under quotas and the slot/table timetable (no app)."""

import random
import subprocess
import sys

import pytest

from matchmaker.matching.assign import Candidate, Quotas, assign, greedy_assign
from matchmaker.matching.timetable import Booking, clashes, timetable


def _c(pid, n, a, norg, aorg, score, must=False):
    return Candidate(pid, n, a, norg, aorg, score, must)


def test_optimum_beats_greedy_where_greedy_blocks_two_good_pairs():
    # Greedy takes the single best pair (0.9) and blocks two pairs worth 0.8 each.
    cands = [
        _c(1, 1, 1, "n1", "a1", 0.9),
        _c(2, 1, 2, "n1", "a2", 0.8),
        _c(3, 2, 1, "n2", "a1", 0.8),
    ]
    quotas = Quotas(default_listing=1)
    assert greedy_assign(cands, quotas).pair_ids == [1]
    best = assign(cands, quotas)
    assert best.pair_ids == [2, 3] and best.objective == pytest.approx(1.6) and best.optimal


def test_organization_quota_binds_across_its_listings():
    cands = [_c(i, i, 100 + i, f"n{i}", "uni", 0.5 + i / 100) for i in range(5)]
    result = assign(cands, Quotas(default_listing=3, default_org=2))
    assert result.pair_ids == [3, 4]


def test_excluded_and_self_pairs_never_chosen_and_must_meet_always_when_feasible():
    cands = [
        _c(1, 1, 1, "x", "x", 1.0),
        _c(2, 1, 2, "n", "a", 0.9),
        _c(3, 2, 2, "m", "a", 0.1, must=True),
    ]
    result = assign(cands, Quotas(default_listing=1), excluded={2})
    assert result.pair_ids == [3] and result.must_meet_missed == []


def test_fixed_pairs_are_kept_and_use_quota():
    cands = [_c(1, 1, 1, "n", "a", 0.1), _c(2, 1, 2, "n", "b", 0.9)]
    result = assign(cands, Quotas(default_listing=1), fixed={1})
    assert result.pair_ids == [1]


def test_bipartite_timetable_reaches_the_degree_bound():
    rng = random.Random(3)
    books = [Booking(i, f"n{rng.randrange(30)}", f"a{rng.randrange(20)}") for i in range(200)]
    plan = timetable(books, slots=60, tables=100)
    assert not plan.unplaced and plan.slots_used == plan.lower_bound == plan.max_degree
    parties = {b.key: (b.a, b.b) for b in books}
    assert clashes(plan.placement, parties) == 0


def test_odd_cycle_needs_one_slot_above_the_degree_bound():
    # Three organizations each on both sides: a triangle has degree 2 but needs 3 slots.
    books = [Booking(1, "x", "y"), Booking(2, "y", "z"), Booking(3, "z", "x")]
    plan = timetable(books, slots=5, tables=5)
    assert plan.max_degree == 2 and plan.slots_used == 3
    assert clashes(plan.placement, {b.key: (b.a, b.b) for b in books}) == 0


def test_tables_cap_each_slot():
    books = [Booking(i, f"n{i}", f"a{i}") for i in range(7)]
    plan = timetable(books, slots=10, tables=2)
    assert plan.lower_bound == 4 and plan.slots_used == 4
    per_slot = [sum(1 for s, _ in plan.placement.values() if s == k) for k in range(4)]
    assert max(per_slot) <= 2


def test_unavailable_slots_and_fixed_meetings_are_respected():
    books = [Booking(1, "n", "a", slot=2, table=1), Booking(2, "n", "b"), Booking(3, "m", "a")]
    plan = timetable(books, slots=4, tables=3, unavailable={"b": {0, 1}})
    assert plan.placement[1] == (2, 1)
    assert plan.placement[2][0] == 3  # n is busy in slot 2 and b cannot come to 0 or 1


def test_meetings_that_cannot_fit_are_reported():
    books = [Booking(i, "n", f"a{i}") for i in range(4)]
    plan = timetable(books, slots=3, tables=5)
    assert len(plan.placement) == 3 and len(plan.unplaced) == 1


def test_solvers_import_no_web_or_database_stack():
    code = (
        "import sys; import matchmaker.matching.assign, matchmaker.matching.timetable; "
        "bad = {'flask', 'celery', 'sqlalchemy'} & set(sys.modules); print(sorted(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_preferred_pairs_win_ties_and_hinted_slots_are_kept():
    cands = [_c(1, 1, 1, "n", "a", 0.5), _c(2, 1, 2, "n", "b", 0.5)]
    quotas = Quotas(default_listing=1)
    assert assign(cands, quotas, prefer={1}).pair_ids == [1]
    assert assign(cands, quotas, prefer={2}).pair_ids == [2]
    plan = timetable([Booking(1, "n", "a", hint=3), Booking(2, "m", "b", hint=2)], 5, 5)
    assert plan.placement[1][0] == 3 and plan.placement[2][0] == 2


def test_fractional_relaxation_falls_back_to_branch_and_bound():
    # Three organizations each on both sides, one meeting each: the LP takes half of every
    # pair (1.5); the integer optimum is one pair.
    cands = [_c(1, 1, 1, "x", "y", 1.0), _c(2, 2, 2, "y", "z", 1.0), _c(3, 3, 3, "z", "x", 1.0)]
    result = assign(cands, Quotas(default_listing=1, default_org=1))
    assert len(result.pair_ids) == 1 and result.method == "milp" and result.optimal


def test_integral_relaxation_is_used_directly():
    cands = [
        _c(i * 4 + j, i, j, f"n{i}", f"a{j}", (i * 7 + j) % 5 / 5)
        for i in range(6)
        for j in range(4)
    ]
    result = assign(cands, Quotas(default_listing=2))
    assert result.method == "lp" and result.optimal
    assert result.objective >= greedy_assign(cands, Quotas(default_listing=2)).objective
