"""Shared helpers for benchmarks: locate ../shared/data and build the fair-scale listings."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FIELDS_FOR_NEEDS = ("工学", "理学", "农学", "医学")


def shared_data() -> Path:
    """Return the shared data folder or exit with a clear message."""
    path = Path(os.environ.get("MATCHMAKER_SHARED_DATA", ROOT / ".." / "shared" / "data")).resolve()
    if not (path / "corpus").is_dir():
        sys.exit(f"shared data not found at {path} (set MATCHMAKER_SHARED_DATA); benchmark skipped")
    return path


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def fair_listings(n_achievements: int = 1239, n_needs: int = 1302) -> tuple[list[dict], list[dict]]:
    """Abstracts (+ keywords) as achievements, 工学/理学/农学/医学 titles as needs."""
    corpus = shared_data() / "corpus"
    achievements = [
        {
            "id": f"P{i}",
            "description": r["abstract"],
            "keywords": r.get("keywords", []),
            "field": r.get("category"),
        }
        for i, r in enumerate(read_jsonl(corpus / "csl_dev_papers.jsonl"))
    ]
    achievements += [
        {"id": f"D{i}", "description": r["abstract"], "field": r.get("category")}
        for i, r in enumerate(read_jsonl(corpus / "csldcp_abstracts.jsonl"))
    ]
    needs = [
        {"id": f"T{i}", "title": r["title"], "field": r["category"]}
        for i, r in enumerate(read_jsonl(corpus / "csl_train_titles.jsonl"))
        if r["category"] in FIELDS_FOR_NEEDS
    ]
    return achievements[:n_achievements], needs[:n_needs]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
