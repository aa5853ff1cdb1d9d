"""Loading listing files: `demo load` (bulk inserts, one transaction) beside row-by-row ORM adds.

Loads 5,000 achievements and 1,000 needs from ../shared/data/eval/csl-title-dev into a fresh
SQLite file (or BENCH_DATABASE_URL, an empty PostgreSQL database), then loads them again (all
skipped). The baseline adds the same rows one ORM object at a time in a second fresh database.

    python -m tests.bench.bench_bulk_load [--lines 5000]
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
EVAL = ROOT.parent / "shared" / "data" / "eval" / "csl-title-dev"


def fresh_app(workdir: Path, name: str):
    from config import TestConfig
    from matchmaker.app import create_app
    from matchmaker.core.extensions import db
    from matchmaker.listings.taxonomy import ensure_fields

    config = TestConfig()
    config.INSTANCE_DIR = workdir
    config.SQLALCHEMY_DATABASE_URI = os.environ.get(
        "BENCH_DATABASE_URL", f"sqlite:///{workdir / name}"
    )
    app = create_app(config)
    with app.app_context():
        db.drop_all()
        db.create_all()
        ensure_fields()
    return app


def timed_cli(app, args: list[str]) -> tuple[float, dict]:
    start = time.perf_counter()
    result = app.test_cli_runner().invoke(args=args)
    elapsed = time.perf_counter() - start
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return elapsed, json.loads(result.output)


def row_by_row(app, achievements: Path, needs: Path) -> float:
    """The obvious way: one ORM object per line, an organization per line, one commit."""
    from matchmaker.accounts.models import Organization
    from matchmaker.core.extensions import db
    from matchmaker.listings.models import Achievement, Need
    from matchmaker.listings.taxonomy import field_by_name

    start = time.perf_counter()
    with app.app_context():
        for model, path, kind in (
            (Achievement, achievements, "institute"),
            (Need, needs, "enterprise"),
        ):
            for line in path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                org = Organization(name=f"{kind}-{row['id']}", kind=kind, status="approved")
                db.session.add(
                    model(
                        external_ref=row["id"],
                        title=row["title"],
                        description=row["description"],
                        keywords=row["keywords"],
                        organization=org,
                        status="published",
                        fields=[field_by_name(row["field"], create=True)],
                    )
                )
        db.session.commit()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=5000)
    args = parser.parse_args()
    if not EVAL.exists():
        print(f"skipped: shared evaluation data not found at {EVAL}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        achievements = workdir / "achievements.jsonl"
        with (EVAL / "achievements.jsonl").open(encoding="utf-8") as source:
            achievements.write_text(
                "".join(next(source) for _ in range(args.lines)), encoding="utf-8"
            )
        needs = EVAL / "needs.jsonl"
        files = ["demo", "load", "--achievements", str(achievements), "--needs", str(needs)]
        app = fresh_app(workdir, "bulk.db")
        first, counts = timed_cli(app, files)
        again, _ = timed_cli(app, files)
        baseline = row_by_row(fresh_app(workdir, "orm.db"), achievements, needs)
    total = counts["achievements_added"] + counts["needs_added"]
    print(f"demo load, {total} new listings:      {first:6.2f} s  ({total / first:,.0f} lines/s)")
    print(f"demo load again, all skipped:        {again:6.2f} s")
    print(f"baseline, row-by-row ORM adds:       {baseline:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
