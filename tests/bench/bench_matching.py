"""Benchmark match quality and speed beside a jieba + BM25 (bm25s) baseline from the same run.

Run from the project root: python -m tests.bench.bench_matching [--runs 3] [--skip-quality]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.baseline_bm25 import bm25_rank  # noqa: E402
from tests.bench.common import ROOT, fair_listings, read_jsonl, shared_data, write_jsonl  # noqa: E402

TASKS = ("csl-title-dev", "csl-keywords-dev", "csl-title-fieldnoise-dev", "csl-short-titles-dev")


def quality() -> None:
    from matchmaker.matching import Matcher
    from matchmaker.matching.evaluate import format_scores, header, read_qrels, score_rankings
    from matchmaker.matching.io import read_listings

    for task in TASKS:
        folder = shared_data() / "eval" / task
        qrels = read_qrels(folder / "qrels.tsv")
        print(f"\n== quality: {task}")
        print(header())
        matcher = Matcher().fit(
            read_listings(folder / "achievements.jsonl"), read_listings(folder / "needs.jsonl")
        )
        rankings: dict = {}
        for match in matcher.rank_needs(top_k=10):
            rankings.setdefault(match.need_id, []).append(match.achievement_id)
        print(format_scores("matchmaker (default MatchConfig)", score_rankings(rankings, qrels)))
        achievements, needs = (
            read_jsonl(folder / "achievements.jsonl"),
            read_jsonl(folder / "needs.jsonl"),
        )
        print(
            format_scores(
                "baseline jieba + BM25 (bm25s)",
                score_rankings(bm25_rank(achievements, needs), qrels),
            )
        )
        same = bm25_rank(achievements, needs, same_field_first=True)
        print(format_scores("baseline jieba + BM25, same-field first", score_rankings(same, qrels)))


def _timed(commands: list[list[str]], runs: int) -> list[float]:
    """Median wall time of each command, runs interleaved so load changes hit both alike."""
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for command, spent in zip(commands, times, strict=True):
            started = time.perf_counter()
            subprocess.run(command, cwd=ROOT, check=True)
            spent.append(time.perf_counter() - started)
    return [statistics.median(spent) for spent in times]


def speed(runs: int) -> None:
    achievements, needs = fair_listings()
    print(
        f"\n== speed: {len(achievements)} achievements x {len(needs)} needs (median of {runs} runs)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        a_path, n_path = Path(tmp) / "achievements.jsonl", Path(tmp) / "needs.jsonl"
        write_jsonl(a_path, achievements)
        write_jsonl(n_path, needs)
        python = sys.executable
        ours, base = _timed(
            [
                [
                    python,
                    "-m",
                    "matchmaker.matching",
                    "rank",
                    "--achievements",
                    str(a_path),
                    "--needs",
                    str(n_path),
                    "--top",
                    "10",
                    "--out",
                    str(Path(tmp) / "m.jsonl"),
                ],
                [
                    python,
                    str(Path(__file__).with_name("baseline_bm25.py")),
                    str(a_path),
                    str(n_path),
                    str(Path(tmp) / "b.jsonl"),
                ],
            ],
            runs,
        )
        probe = (
            "import time; t=time.perf_counter(); from matchmaker.matching.tokenizer import"
            " get_tokenizer; get_tokenizer(); print(time.perf_counter()-t)"
        )
        init = subprocess.run(
            [python, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
        )
        cold_env = {**os.environ, "MATCHMAKER_CACHE_DIR": ""}
        cold = subprocess.run(
            [python, "-c", probe],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            env=cold_env,
        )
    print(f"{'whole process, rank CLI (matchmaker)':<48}{ours:8.2f} s")
    print(f"{'whole process, jieba + bm25s, one direction':<48}{base:8.2f} s")
    print(f"{'jieba init incl. domain dictionary (cached)':<48}{float(init.stdout):8.2f} s")
    print(f"{'jieba init incl. domain dictionary (no cache)':<48}{float(cold.stdout):8.2f} s")
    _cached(achievements, needs)


def _cached(achievements: list[dict], needs: list[dict]) -> None:
    from matchmaker.matching import Listing, Matcher, listing_tokens

    def listings(rows):
        items = [
            Listing(**{k: (tuple(v) if k == "keywords" else v) for k, v in r.items()}) for r in rows
        ]
        return [replace(x, tokens=tuple(listing_tokens(x))) for x in items]

    started = time.perf_counter()
    a, n = listings(achievements), listings(needs)
    tokenizing = time.perf_counter() - started
    timings: dict[str, list[tuple[float, float]]] = {"fit": [], "one": [], "both": []}

    def timed(name, call):
        wall, cpu = time.perf_counter(), time.process_time()
        result = call()
        timings[name].append((time.perf_counter() - wall, time.process_time() - cpu))
        return result

    for _ in range(3):
        # A fresh fit each time, so the timed ranking includes the feedback expansion it triggers.
        matcher = timed("fit", lambda: Matcher().fit(a, n))
        timed("one", lambda m=matcher: m.rank_needs(top_k=10))
        matcher = Matcher().fit(a, n)
        timed("both", lambda m=matcher: m.rank(top_k=10))
    print(f"{'tokenize all listings in-process':<48}{tokenizing:8.2f} s")
    print("(in-process rows: wall, then CPU seconds of this single-threaded process)")
    rows = (
        ("fit", "fit TF-IDF from cached tokens", ""),
        ("one", "rank needs top 10 + explain (fresh fit)", "   target < 0.30 s"),
        ("both", "rank both directions top 10 + explain + merge", "   target < 0.30 s"),
    )
    for key, label, target in rows:
        wall = statistics.median(t[0] for t in timings[key])
        cpu = statistics.median(t[1] for t in timings[key])
        print(f"{label:<48}{wall:8.2f} s  cpu {cpu:5.2f} s{target}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    shared_data()
    if not args.skip_quality:
        quality()
    speed(args.runs)


if __name__ == "__main__":
    main()
