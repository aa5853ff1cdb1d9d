"""Place a fair's meetings into time slots and tables: nobody double-booked, few slots.

Pure module (stdlib only). A meeting joins two parties (the representatives of the need's and the
achievement's organizations; a listing belongs to one organization, so listing clashes are covered).
Slots are colours of the meetings graph: a bipartite multigraph can be coloured with as many colours
as its maximum degree (König), found by swapping alternating (Kempe) paths. When an organization
sits on both sides the graph is not bipartite and the bound may be missed; a slot is then added.
Tables cap the meetings per slot, so ceil(meetings / tables) is a second lower bound; overfull
slots are evened out by flipping alternating paths that hold more of one slot than the other.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Booking:
    """A meeting to place; `slot`/`table` set when it is fixed (a confirmed meeting).

    `hint` is the slot it had before (a re-run), taken again when nothing stands in the way.
    """

    key: int
    a: Hashable
    b: Hashable
    slot: int | None = None
    table: int | None = None
    hint: int | None = None


@dataclass
class Timetable:
    placement: dict[int, tuple[int, int]]  # key -> (slot, table), both 0-based
    unplaced: list[int]
    slots_used: int
    max_degree: int
    lower_bound: int
    kempe_flips: int = 0
    notes: list[str] = field(default_factory=list)


class _Colouring:
    def __init__(self, slots: int, tables: int, unavailable: Mapping[Hashable, set[int]]):
        self.slots = slots
        self.tables = tables
        self.unavailable = unavailable
        self.at: dict[Hashable, dict[int, int]] = {}  # party -> slot -> booking key
        self.colour: dict[int, int] = {}
        self.count = [0] * slots
        self.ends: dict[int, tuple[Hashable, Hashable]] = {}
        self.fixed: set[int] = set()
        self.flips = 0

    def allowed(self, key: int, c: int) -> bool:
        a, b = self.ends[key]
        return c not in self.unavailable.get(a, ()) and c not in self.unavailable.get(b, ())

    def free(self, party: Hashable, c: int) -> bool:
        return c not in self.at.get(party, {})

    def put(self, key: int, c: int) -> None:
        a, b = self.ends[key]
        self.at.setdefault(a, {})[c] = key
        self.at.setdefault(b, {})[c] = key
        self.colour[key] = c
        self.count[c] += 1

    def take(self, key: int) -> int:
        c = self.colour.pop(key)
        a, b = self.ends[key]
        del self.at[a][c]
        del self.at[b][c]
        self.count[c] -= 1
        return c

    def path(self, start: Hashable, first: int, second: int) -> list[int] | None:
        """The alternating first/second path leaving `start` by its `first` edge (None: cycle)."""
        keys, node, want, seen = [], start, first, set()
        while True:
            key = self.at.get(node, {}).get(want)
            if key is None:
                return keys
            if key in seen:
                return None
            seen.add(key)
            keys.append(key)
            a, b = self.ends[key]
            node = b if node == a else a
            want = second if want == first else first

    def flip(self, keys: list[int], c1: int, c2: int) -> bool:
        """Swap colours c1 and c2 along a path if every meeting on it may move."""
        if any(k in self.fixed for k in keys):
            return False
        targets = {k: (c2 if self.colour[k] == c1 else c1) for k in keys}
        if not all(self.allowed(k, t) for k, t in targets.items()):
            return False
        delta = sum(1 if t == c2 else -1 for t in targets.values())
        if self.count[c2] + delta > self.tables or self.count[c1] - delta > self.tables:
            return False
        for k in keys:
            self.take(k)
        for k, t in targets.items():
            self.put(k, t)
        self.flips += 1
        return True


def _place_one(col: _Colouring, key: int, palette: list[int], hint: int | None = None) -> bool:
    a, b = col.ends[key]
    open_ = [c for c in palette if col.count[c] < col.tables and col.allowed(key, c)]
    both = [c for c in open_ if col.free(a, c) and col.free(b, c)]
    if (
        hint is not None
        and 0 <= hint < col.slots
        and col.count[hint] < col.tables
        and col.allowed(key, hint)
        and col.free(a, hint)
        and col.free(b, hint)
    ):
        col.put(key, hint)  # the slot it had before, even beyond the palette: keep agendas stable
        return True
    if both:
        col.put(key, min(both, key=lambda c: (col.count[c], c)))
        return True
    free_a = [c for c in open_ if col.free(a, c)]
    free_b = [c for c in palette if col.free(b, c)]
    tries = 0
    for c1 in free_a:  # c1 free at a, taken at b: free b of c1 by flipping the c1/c2 path from b
        for c2 in free_b:
            if c2 == c1 or not col.free(b, c2):
                continue
            tries += 1
            if tries > 24:
                return False
            keys = col.path(b, c1, c2)
            if keys is None or any(a in col.ends[k] for k in keys):
                continue  # the path runs back to a (odd cycle): flipping would not help
            if (
                col.flip(keys, c1, c2)
                and col.free(a, c1)
                and col.free(b, c1)
                and col.count[c1] < col.tables
            ):
                col.put(key, c1)
                return True
    return False


def _keep_fixed(col: _Colouring, bookings: list, slots: int, tables: int) -> list[str]:
    """Confirmed meetings keep their slot when it is still valid; notes name those that clash."""
    notes = []
    for bk in bookings:
        if bk.slot is not None and 0 <= bk.slot < slots:
            if col.free(bk.a, bk.slot) and col.free(bk.b, bk.slot) and col.count[bk.slot] < tables:
                col.put(bk.key, bk.slot)
                col.fixed.add(bk.key)
            else:
                notes.append(f"fixed meeting {bk.key} clashes in slot {bk.slot}")
    return notes


def timetable(
    bookings: Iterable[Booking],
    slots: int,
    tables: int,
    unavailable: Mapping[Hashable, Iterable[int]] | None = None,
) -> Timetable:
    """Give each meeting a slot and a table so that no party and no table is double-booked."""
    bookings = list(bookings)
    blocked = {p: set(s) for p, s in (unavailable or {}).items()}
    col = _Colouring(slots, tables, blocked)
    degree: dict[Hashable, int] = {}
    for bk in bookings:
        if bk.a == bk.b:
            raise ValueError(f"meeting {bk.key} joins {bk.a!r} with itself")
        col.ends[bk.key] = (bk.a, bk.b)
        for p in (bk.a, bk.b):
            degree[p] = degree.get(p, 0) + 1
    max_degree = max(degree.values(), default=0)
    lower = max(max_degree, math.ceil(len(bookings) / tables) if tables else 0)
    unplaced: list[int] = []
    notes = _keep_fixed(col, bookings, slots, tables)

    # Palette: the first `lower` slots (skipping slots nobody can use is not needed: slot
    # availability is per party), widened one slot at a time when a meeting cannot be placed.
    width = min(slots, max(lower, max(col.colour.values(), default=-1) + 1))
    order = sorted(
        (bk for bk in bookings if bk.key not in col.colour),
        key=lambda bk: (-(degree[bk.a] + degree[bk.b]), bk.key),
    )
    for bk in order:
        while True:
            if _place_one(col, bk.key, list(range(width)), bk.hint):
                break
            if width >= slots:
                unplaced.append(bk.key)
                break
            width += 1

    placement = _tables(col, bookings, tables)
    used = len({c for c in col.colour.values()})
    return Timetable(
        placement=placement,
        unplaced=sorted(unplaced),
        slots_used=(max(col.colour.values()) + 1) if col.colour else 0,
        max_degree=max_degree,
        lower_bound=lower,
        kempe_flips=col.flips,
        notes=notes
        + (
            []
            if used == ((max(col.colour.values()) + 1) if col.colour else 0)
            else ["some slots inside the span are empty"]
        ),
    )


def _tables(col: _Colouring, bookings: list[Booking], tables: int) -> dict[int, tuple[int, int]]:
    """Number the tables in each slot; the achievement side keeps its table when it can."""
    by_slot: dict[int, list[Booking]] = {}
    for bk in bookings:
        if bk.key in col.colour:
            by_slot.setdefault(col.colour[bk.key], []).append(bk)
    home: dict[Hashable, int] = {}
    placement: dict[int, tuple[int, int]] = {}
    for slot in sorted(by_slot):
        taken: set[int] = set()
        rest = []
        for bk in by_slot[slot]:
            if bk.key in col.fixed and bk.table is not None and bk.table not in taken:
                placement[bk.key] = (slot, bk.table)
                taken.add(bk.table)
            else:
                rest.append(bk)
        later = []
        for bk in rest:
            t = home.get(bk.b)
            if t is not None and t not in taken and t < tables:
                placement[bk.key] = (slot, t)
                taken.add(t)
            else:
                later.append(bk)
        free = iter(t for t in range(tables) if t not in taken)
        for bk in later:
            t = next(free)
            placement[bk.key] = (slot, t)
            home.setdefault(bk.b, t)
    return placement


def clashes(placement: Mapping[int, tuple[int, int]], parties: Mapping[int, Iterable]) -> int:
    """Count double bookings: a party or a table holding two meetings in the same slot."""
    seen: dict[tuple, int] = {}
    for key, (slot, table) in placement.items():
        for p in list(parties.get(key, ())) + [("table", table)]:
            seen[(slot, p)] = seen.get((slot, p), 0) + 1
    return sum(n - 1 for n in seen.values() if n > 1)
