"""Command line: rank listings files, or evaluate the matcher on a task folder with qrels."""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import sys
import time
import types
from dataclasses import replace
from pathlib import Path

from .evaluate import format_scores, header, read_qrels, score_rankings
from .features import listing_tokens
from .io import ListingFileError, read_listings, write_need_matches
from .listing import Listing, MatchConfig


def main(argv: list[str] | None = None) -> int:
    """Run the matching command line; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m matchmaker.matching")
    commands = parser.add_subparsers(dest="command", required=True)
    rank = commands.add_parser("rank", help="rank achievements for every need")
    rank.add_argument("--achievements", required=True, type=Path)
    rank.add_argument("--needs", required=True, type=Path)
    rank.add_argument("--top", type=int, default=10)
    rank.add_argument("--out", required=True, type=Path)
    evaluate = commands.add_parser("evaluate", help="print nDCG@10, P@10, MRR@10, R@1, R@10")
    evaluate.add_argument("taskdir", type=Path)
    evaluate.add_argument("--limit", type=int, default=None, help="score only the first N needs")
    args = parser.parse_args(argv)
    try:
        if args.command == "rank":
            run_rank(args.achievements, args.needs, args.top, args.out)
        else:
            run_evaluate(args.taskdir, args.limit)
    except (ListingFileError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def rank_files(achievements_path: Path, needs_path: Path, top: int):
    """Read both files, tokenize off the main process where possible, fit and rank needs."""
    achievements = read_listings(achievements_path)
    needs = read_listings(needs_path)
    config = MatchConfig()
    achievements, needs = tokenize_in_background(achievements, needs, config)
    from .matcher import Matcher

    matcher = Matcher(config).fit(achievements, needs)
    return needs, matcher.rank_needs(top_k=top)


def run_rank(achievements_path: Path, needs_path: Path, top: int, out: Path) -> None:
    """Rank and write one line per need."""
    needs, matches = rank_files(achievements_path, needs_path, top)
    write_need_matches(out, [n.id for n in needs], matches)


def run_evaluate(taskdir: Path, limit: int | None) -> None:
    """Rank a task folder's needs and print its metrics."""
    qrels_path = taskdir / "qrels.tsv"
    if not qrels_path.is_file():
        raise ListingFileError(f"{qrels_path}: missing")
    started = time.perf_counter()
    needs, matches = rank_files(taskdir / "achievements.jsonl", taskdir / "needs.jsonl", 10)
    rankings: dict = {}
    for match in matches:
        rankings.setdefault(str(match.need_id), []).append(str(match.achievement_id))
    qrels = read_qrels(qrels_path)
    if limit is not None:
        keep = {str(n.id) for n in needs[:limit]}
        qrels = {k: v for k, v in qrels.items() if k in keep}
    print(header())
    print(format_scores(f"matchmaker {taskdir.name}", score_rankings(rankings, qrels)))
    print(f"({len(needs)} needs, {time.perf_counter() - started:.1f} s)")


def tokenize_in_background(
    achievements: list[Listing], needs: list[Listing], config: MatchConfig
) -> tuple[list[Listing], list[Listing]]:
    """Tokenize in two forked workers while this process imports scikit-learn; in-process otherwise.

    The first worker loads the tokenizer (from its cache) and then forks the second, so the
    dictionary is loaded once and shared copy-on-write; each worker takes half of the text.
    """
    listings = [*achievements, *needs]
    if "fork" not in multiprocessing.get_all_start_methods() or len(listings) < 200:
        tokens = _tokenize_all(listings, config)
    else:
        split = _balanced_split(listings)
        context = multiprocessing.get_context("fork")
        first_in, first_out = context.Pipe(duplex=False)
        second_in, second_out = context.Pipe(duplex=False)
        worker = context.Process(
            target=_worker, args=(context, listings, split, config, first_out, second_out)
        )
        worker.start()
        first_out.close()
        second_out.close()
        import_vectorizer()
        try:
            tokens = first_in.recv() + second_in.recv()
        except EOFError:
            raise RuntimeError("tokenizer worker stopped unexpectedly") from None
        finally:
            worker.join()
    out = [replace(x, tokens=t) for x, t in zip(listings, tokens, strict=True)]
    return out[: len(achievements)], out[len(achievements) :]


def import_vectorizer() -> None:
    """Import scikit-learn's text module, deferring scipy.stats (unused here, ~0.4 s to import)."""
    import scipy

    if "scipy.stats" not in sys.modules:
        stub = _DeferredModule("scipy.stats")
        sys.modules["scipy.stats"] = stub
        scipy.stats = stub
    import sklearn.feature_extraction.text  # noqa: F401
    import sklearn.utils.extmath  # noqa: F401  (the latent component's randomized SVD)

    from . import matcher  # noqa: F401


class _DeferredModule(types.ModuleType):
    """A placeholder that imports the real module on first attribute access."""

    def __getattr__(self, attr: str):
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        module = importlib.import_module(name)
        parent, _, child = name.rpartition(".")
        setattr(sys.modules[parent], child, module)
        return getattr(module, attr)


def _balanced_split(listings: list[Listing]) -> int:
    sizes = [len(x.title) + len(x.description) + sum(map(len, x.keywords or ())) for x in listings]
    half, running = sum(sizes) / 2, 0
    for i, size in enumerate(sizes):
        running += size
        if running >= half:
            return i + 1
    return len(listings)


def _tokenize_all(listings: list[Listing], config: MatchConfig) -> list[tuple[str, ...]]:
    return [tuple(listing_tokens(x, config)) for x in listings]


def _worker(context, listings, split, config, first_out, second_out) -> None:
    from .tokenizer import get_tokenizer

    get_tokenizer()
    helper = context.Process(target=_send_tokens, args=(listings[split:], config, second_out))
    helper.start()
    second_out.close()
    _send_tokens(listings[:split], config, first_out)
    helper.join()


def _send_tokens(listings, config, sender) -> None:
    sender.send(_tokenize_all(listings, config))
    sender.close()
