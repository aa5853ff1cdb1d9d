"""Match-quality metrics against graded relevance judgements (qrels)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

METRICS = ("ndcg@10", "p@10", "mrr@10", "r@1", "r@10")


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Read need_id<TAB>achievement_id<TAB>grade lines into {need_id: {achievement_id: grade}}."""
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            parts = line.rstrip("\n").split("\t")
            if not line.strip():
                continue
            if len(parts) != 3 or not parts[2].lstrip("-").isdigit():
                raise ValueError(f"{path}:{number}: expected need_id<TAB>achievement_id<TAB>grade")
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return qrels


def score_rankings(
    rankings: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]], k: int = 10
) -> dict[str, float]:
    """Average nDCG@k (gain 2^grade-1), P@k (grade>=1), MRR@k and R@1/R@k of the grade-2 item."""
    totals = dict.fromkeys(METRICS, 0.0)
    needs = [need for need in qrels if any(g > 0 for g in qrels[need].values())]
    for need in needs:
        grades = qrels[need]
        ranked = list(rankings.get(need, ()))[:k]
        gains = [grades.get(a, 0) for a in ranked]
        dcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains))
        ideal = sorted(grades.values(), reverse=True)[:k]
        idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
        totals["ndcg@10"] += dcg / idcg if idcg else 0.0
        totals["p@10"] += sum(g >= 1 for g in gains) / k
        top = _first(gains, 2)
        totals["mrr@10"] += 1.0 / top if top else 0.0
        totals["r@1"] += 1.0 if top == 1 else 0.0
        totals["r@10"] += 1.0 if top else 0.0
    return {name: value / max(len(needs), 1) for name, value in totals.items()}


def _first(gains: Iterable[int], grade: int) -> int | None:
    for position, gain in enumerate(gains, 1):
        if gain >= grade:
            return position
    return None


def format_scores(name: str, scores: Mapping[str, float]) -> str:
    """Render one row of metric figures."""
    return f"{name:<44}" + "".join(f"{scores[m]:>9.3f}" for m in METRICS)


def header() -> str:
    """Render the header matching format_scores."""
    return f"{'ranker':<44}" + "".join(f"{m:>9}" for m in METRICS)
