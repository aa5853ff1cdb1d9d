"""Baseline ranker for the benchmarks: jieba (default mode) + BM25 via bm25s.

Run as a script it is the whole-process speed baseline: read listings, tokenize, index, retrieve
the top 10 achievements for every need, write JSON lines.
"""

from __future__ import annotations

import json
import sys

import numpy as np


def listing_text(row: dict) -> str:
    return " ".join(
        [row.get("title") or "", " ".join(row.get("keywords") or []), row.get("description") or ""]
    )


def jieba_tokens(texts: list[str]) -> list[list[str]]:
    import jieba

    return [[t for t in jieba.lcut(text) if t.strip()] for text in texts]


def bm25_rank(
    achievements: list[dict], needs: list[dict], k: int = 10, same_field_first: bool = False
):
    """Return {need_id: [achievement_id, ...]} best first."""
    import bm25s

    corpus = jieba_tokens([listing_text(a) for a in achievements])
    queries = jieba_tokens([listing_text(n) for n in needs])
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    vocab = retriever.vocab_dict
    queries = [[t for t in q if t in vocab] or [next(iter(vocab))] for q in queries]
    depth = len(achievements) if same_field_first else min(k, len(achievements))
    docs, scores = retriever.retrieve(queries, k=depth, show_progress=False)
    ids = [a["id"] for a in achievements]
    fields = np.array([a.get("field") or "" for a in achievements], dtype=object)
    out = {}
    for i, need in enumerate(needs):
        row = docs[i]
        if same_field_first:
            same = fields[row] == (need.get("field") or "")
            row = np.concatenate([row[same], row[~same]])
        out[need["id"]] = [ids[j] for j in row[:k]]
    return out


def main(argv: list[str]) -> None:
    achievements_path, needs_path, out_path = argv
    achievements = [json.loads(x) for x in open(achievements_path, encoding="utf-8") if x.strip()]
    needs = [json.loads(x) for x in open(needs_path, encoding="utf-8") if x.strip()]
    ranking = bm25_rank(achievements, needs)
    with open(out_path, "w", encoding="utf-8") as handle:
        for need in needs:
            handle.write(
                json.dumps(
                    {"need_id": need["id"], "matches": ranking[need["id"]]}, ensure_ascii=False
                )
                + "\n"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
