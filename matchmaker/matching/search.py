"""One pass over the fitted product: both directions' top k, and the merged pair list."""

from __future__ import annotations

import dataclasses

import numpy as np

from .ranking import Reuse, TopK, top_k_both


def other(kind: str) -> str:
    """The other side's kind."""
    return "achievement" if kind == "need" else "need"


def search(matcher, k: dict, min_score, masks: dict) -> dict[str, TopK]:
    """Both directions' top k over the scored sides; the larger (or the masked) side is chunked."""
    cfg = matcher.config
    threshold = cfg.min_score if min_score is None else min_score
    sides = {kind: matcher._scoring_side(kind) for kind in ("need", "achievement")}
    reuse = None
    if matcher.configured_scoring().relative:
        # The references' pass over the whole product hands its blocks on to a whole ranking.
        whole = masks["need"] is None and masks["achievement"] is None
        reuse = Reuse() if whole and getattr(matcher, "_row_bests", None) is None else None
        references = matcher.row_references(reuse)
        sides = {kind: dataclasses.replace(s, best=references[kind]) for kind, s in sides.items()}
    rows = orient(sides, masks)
    cols = other(rows)
    row_top, col_top = top_k_both(
        sides[rows],
        sides[cols],
        k[rows],
        k[cols],
        threshold,
        matcher.scoring(),
        masks[rows],
        masks[cols],
        cfg.chunk_cells,
        matcher.n_jobs,
        reuse=reuse,
    )
    return {rows: row_top, cols: col_top}


def orient(sides: dict, masks: dict) -> str:
    """The kind whose listings are the product's rows (chunked); the other side's are columns."""
    if (masks["need"] is None) != (masks["achievement"] is None):
        # A subset against a whole side: chunk the subset, so the whole side's field groups
        # are transposed once per fitted model (Side.transposed) rather than once per query.
        return "need" if masks["need"] is not None else "achievement"
    larger = sides["achievement"].vectors.shape[0] >= sides["need"].vectors.shape[0]
    return "achievement" if larger else "need"


def merged_pairs(matcher, tops: dict[str, TopK]):
    """Every pair in either direction's top k, ordered by need, score, achievement.

    Returns (needs, achievements, scores, need ranks, achievement ranks) as arrays of fitted
    positions; a rank is 0 where the pair is not in that direction's top k.
    """
    n_achievements = len(matcher.achievement_ids_)
    need_rows, need_ranks = np.nonzero(tops["need"].index >= 0)
    ach_rows, ach_ranks = np.nonzero(tops["achievement"].index >= 0)
    need_codes = need_rows * n_achievements + tops["need"].index[need_rows, need_ranks]
    ach_codes = tops["achievement"].index[ach_rows, ach_ranks] * n_achievements + ach_rows
    codes = np.union1d(need_codes, ach_codes)
    scores = np.zeros(len(codes), dtype=np.float64)
    ranks = {}
    for kind, own, rows, place in (
        ("need", need_codes, need_rows, need_ranks),
        ("achievement", ach_codes, ach_rows, ach_ranks),
    ):
        at = np.searchsorted(codes, own)
        scores[at] = tops[kind].score[rows, place]
        ranks[kind] = np.zeros(len(codes), dtype=np.int64)
        ranks[kind][at] = place + 1
    needs, achievements = codes // n_achievements, codes % n_achievements
    sides = matcher.sides_
    order = np.lexsort(
        (sides["achievement"].order[achievements], -scores, sides["need"].order[needs])
    )
    return (
        needs[order],
        achievements[order],
        np.minimum(scores[order], 1.0),
        ranks["need"][order],
        ranks["achievement"][order],
    )


def allowed(matcher, kind, ids, field) -> np.ndarray | None:
    """The mask of a side's rows among the given ids and in the given field (None: all)."""
    if ids is None and field is None:
        return None
    side = matcher.sides_[kind]
    mask = np.ones(side.vectors.shape[0], dtype=bool)
    if ids is not None:
        mask[:] = False
        positions = matcher.positions_[kind]
        mask[[positions[x] for x in ids if x in positions]] = True
    if field is not None:
        code = matcher.fields_.get(field)
        if code is None:
            mask[:] = False
        else:
            word, bit = code // 64, np.uint64(1) << np.uint64(code % 64)
            mask &= (side.fields[:, word] & bit) != 0
    return mask
