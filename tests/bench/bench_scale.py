"""Scale benchmark: top 20 both directions on synthetic listings recombined from shared sentences.

Run from the project root:
    python -m tests.bench.bench_scale                 # quick: 10k and 100k achievements
    python -m tests.bench.bench_scale 1000000         # 1M achievements x 100k needs
Needs are a tenth of achievements (at most 100,000). Tokens are cached: sentences are tokenized
once and listings are built from their tokens, as a platform reuses cached listing tokens.
Each size runs in its own process so peak RSS is per size.
"""

from __future__ import annotations

import random
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.common import ROOT, read_jsonl, shared_data  # noqa: E402

FIELDS = ("工学", "理学", "农学", "医学", "管理学")


def sentence_pool():
    from matchmaker.matching import tokenize

    corpus = shared_data() / "corpus"
    sentences, titles = [], []
    for row in read_jsonl(corpus / "csldcp_abstracts.jsonl") + read_jsonl(
        corpus / "csl_dev_papers.jsonl"
    ):
        sentences += [
            tokenize(s) for s in re.split(r"[。；;.!?！？]", row["abstract"]) if len(s) > 8
        ]
    for row in read_jsonl(corpus / "csl_train_titles.jsonl"):
        titles.append(tokenize(row["title"]))
    return [s for s in sentences if s], [t for t in titles if t]


def build(n_achievements: int, n_needs: int, seed: int = 7):
    from matchmaker.matching import Listing

    sentences, titles = sentence_pool()
    rng = random.Random(seed)
    achievements = [
        Listing(
            id=i,
            field=rng.choice(FIELDS),
            org=i % 5000,
            tokens=tuple(t for s in rng.sample(sentences, 4) for t in s),
        )
        for i in range(n_achievements)
    ]
    needs = [
        Listing(
            id=i,
            field=rng.choice(FIELDS),
            org=5000 + i % 5000,
            tokens=tuple(rng.choice(titles) * 3 + rng.choice(titles)),
        )
        for i in range(n_needs)
    ]
    return achievements, needs


def run_one(n_achievements: int) -> None:
    from matchmaker.matching import Matcher

    n_needs = min(max(n_achievements // 10, 1), 100_000)
    started = time.perf_counter()
    achievements, needs = build(n_achievements, n_needs)
    built = time.perf_counter() - started
    config = bulk_config()
    cpu_started = _cpu()
    started = time.perf_counter()
    matcher = Matcher(config, n_jobs=2).fit(achievements, needs)
    del achievements, needs
    fitted = time.perf_counter() - started
    started = time.perf_counter()
    tops = matcher.rank_bulk(top_k=20)
    ranked = time.perf_counter() - started
    cpu = _cpu() - cpu_started
    found = {kind: int((top.index >= 0).sum()) for kind, top in tops.items()}
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    print(
        f"{n_achievements:>9} x {n_needs:>7}: build {built:6.1f} s, fit {fitted:6.1f} s, "
        f"rank top20 both ways {ranked:7.1f} s, fit+rank {fitted + ranked:7.1f} s "
        f"(cpu {cpu:.0f} s) "
        f"({found['need']}+{found['achievement']} pairs), "
        f"peak RSS {own:.2f} GiB (+ largest worker {children:.2f} GiB)",
        flush=True,
    )


def _cpu() -> float:
    """CPU seconds of this process and its finished workers (the machine may be shared)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bulk_config():
    """The configuration used at this scale (see matchmaker.matching.listing.bulk_config)."""
    from matchmaker.matching import MatchConfig

    return MatchConfig.bulk()


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--one":
        run_one(int(argv[1]))
        return
    shared_data()
    from dataclasses import asdict

    from matchmaker.matching import MatchConfig

    platform, bulk = asdict(MatchConfig()), asdict(bulk_config())
    changed = ", ".join(
        f"{k}={bulk[k]} (platform {platform[k]})" for k in bulk if bulk[k] != platform[k]
    )
    print(f"bulk config differs from the platform's in: {changed}; no explanations", flush=True)
    for size in [int(x) for x in argv] or [10_000, 100_000]:
        subprocess.run(
            [sys.executable, "-m", "tests.bench.bench_scale", "--one", str(size)],
            cwd=ROOT,
            check=False,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
