"""Declared fields as bit sets: which pairs share a field, which cross fields.

Each listing's fields become one row of uint64 words (bit i = the i-th known field), so whether
two listings share a field is one AND per pair however many fields each declares.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def field_index(field_lists: Iterable[Sequence[str]], known: dict | None = None) -> dict:
    """Number the fields: the known ones keep their bit, new ones follow in sorted order."""
    index = dict(known or {})
    new = sorted({f for fields in field_lists for f in fields} - set(index))
    for name in new:
        index[name] = len(index)
    return index


def field_bits(field_lists: Sequence[Sequence[str]], index: dict) -> np.ndarray:
    """Return an (n, words) uint64 array: bit i of a row is set when it declares field i."""
    width = max(1, -(-len(index) // 64))
    bits = np.zeros((len(field_lists), width), dtype=np.uint64)
    for row, fields in enumerate(field_lists):
        for name in fields:
            code = index.get(name)
            if code is not None:
                bits[row, code // 64] |= np.uint64(1) << np.uint64(code % 64)
    return bits


def widen(bits: np.ndarray, width: int) -> np.ndarray:
    """Pad bit rows with empty words up to width (fields added since the bits were made)."""
    if bits.shape[1] >= width:
        return bits
    return np.hstack([bits, np.zeros((bits.shape[0], width - bits.shape[1]), dtype=np.uint64)])


def crossing(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Per aligned row pair: both declare fields and share none."""
    if left.shape[1] == 1:
        a, b = left[:, 0], right[:, 0]
        return (a != 0) & (b != 0) & ((a & b) == 0)
    return left.any(axis=1) & right.any(axis=1) & ~(left & right).any(axis=1)


def shared_fields(need_fields: Sequence[str], achievement_fields: Sequence[str]) -> tuple:
    """The fields both declare, in the need's order."""
    theirs = set(achievement_fields)
    return tuple(f for f in need_fields if f in theirs)


def crossing_grid(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """(len(left), len(right)): each pair of bit rows both declares fields and shares none."""
    declared = left.any(axis=1)[:, None] & right.any(axis=1)[None, :]
    shared = np.zeros(declared.shape, dtype=bool)
    for word in range(min(left.shape[1], right.shape[1])):
        shared |= (left[:, word][:, None] & right[:, word][None, :]) != 0
    return declared & ~shared
