"""Fair-scale benchmark: assignment (ILP vs greedy) and timetable (slots vs the degree bound).

The report's largest fair: 1,239 achievements × 1,302 needs, top-20 suggestions each side,
listing quotas 5–10. Scores are random but seeded; organizations are skewed like real ones (a few
universities post many achievements; most companies post one or two needs) and a few companies
post achievements too, so the meeting graph is not bipartite. Target: assignment + timetable
within 30 s on 2 cores.

    python tests/bench/bench_fairs.py [--seed 7] [--slots 24] [--tables 400]
    python tests/bench/bench_fairs.py --db
        (the same data in a SQLite file, through `flask fairs create --register-all` and
        `flask fairs plan`)
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from matchmaker.matching.assign import Candidate, Quotas, assign, greedy_assign  # noqa: E402
from matchmaker.matching.timetable import Booking, clashes, timetable  # noqa: E402


def fair_problem(seed: int, achievements=1239, needs=1302, top_k=20, dual_orgs=15):
    rng = random.Random(seed)
    institutes = [f"inst{i}" for i in range(160)]
    companies = [f"co{i}" for i in range(950)]
    inst_weights = [1 / (i + 1) ** 0.8 for i in range(len(institutes))]
    ach_org = {a: rng.choices(institutes, inst_weights)[0] for a in range(achievements)}
    need_org = {n: rng.choice(companies) for n in range(needs)}
    for a in rng.sample(range(achievements), dual_orgs):  # companies offering an achievement
        ach_org[a] = rng.choice(companies)
    pairs: dict[tuple[int, int], float] = {}
    for n in range(needs):
        for a in rng.sample(range(achievements), top_k):
            pairs[(n, a)] = round(rng.random() ** 2, 4)
    for a in range(achievements):
        for n in rng.sample(range(needs), top_k):
            pairs.setdefault((n, a), round(rng.random() ** 2, 4))
    candidates = []
    for pid, ((n, a), score) in enumerate(sorted(pairs.items())):
        candidates.append(
            Candidate(pid, n, a, need_org[n], ach_org[a], score, must_meet=rng.random() < 0.003)
        )
    listing_quota = {("need", n): rng.randint(5, 10) for n in range(needs)}
    listing_quota |= {("achievement", a): rng.randint(5, 10) for a in range(achievements)}
    excluded = {c.pair_id for c in candidates if rng.random() < 0.02}
    return candidates, listing_quota, excluded


ROOT = Path(__file__).resolve().parents[2]


def load_database(url: str, seed: int) -> None:
    """Write the fair-scale problem into an empty database (orgs, listings, suggestions)."""
    from sqlalchemy import insert

    from config import Config
    from matchmaker.accounts.models import Organization
    from matchmaker.app import create_app
    from matchmaker.core.extensions import db
    from matchmaker.listings.models import Achievement, Need
    from matchmaker.listings.taxonomy import ensure_fields
    from matchmaker.pairs.models import Suggestion

    candidates, listing_quota, excluded = fair_problem(seed)
    config = Config()
    config.SQLALCHEMY_DATABASE_URI = url
    app = create_app(config)
    with app.app_context():
        db.create_all()
        ensure_fields()
        orgs = sorted({c.need_org for c in candidates} | {c.achievement_org for c in candidates})
        org_id = {name: i + 1 for i, name in enumerate(orgs)}
        db.session.execute(
            insert(Organization),
            [
                {
                    "id": i,
                    "name": name,
                    "status": "approved",
                    "kind": "institute" if name.startswith("inst") else "enterprise",
                }
                for name, i in org_id.items()
            ],
        )
        needs = {c.need_id: c.need_org for c in candidates}
        achs = {c.achievement_id: c.achievement_org for c in candidates}
        db.session.execute(
            insert(Need),
            [
                {
                    "id": n + 1,
                    "title": f"需求{n}",
                    "organization_id": org_id[o],
                    "status": "published",
                }
                for n, o in needs.items()
            ],
        )
        db.session.execute(
            insert(Achievement),
            [
                {
                    "id": a + 1,
                    "title": f"成果{a}",
                    "organization_id": org_id[o],
                    "status": "published",
                }
                for a, o in achs.items()
            ],
        )
        db.session.execute(
            insert(Suggestion),
            [
                {
                    "id": c.pair_id + 1,
                    "need_id": c.need_id + 1,
                    "achievement_id": c.achievement_id + 1,
                    "score": c.score,
                    "state": "dismissed" if c.pair_id in excluded else "suggested",
                }
                for c in candidates
            ],
        )
        db.session.commit()


def run_cli(args: argparse.Namespace) -> None:
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "fairs"]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        env = dict(os.environ, DATABASE_URL=url, MATCHMAKER_INSTANCE=tmp)
        start = time.perf_counter()
        load_database(url, args.seed)
        print(f"loaded in {time.perf_counter() - start:.1f}s", file=sys.stderr)
        created = subprocess.run(
            flask
            + [
                "create",
                "--name",
                "bench",
                "--date",
                "2026-12-01",
                "--slots",
                str(args.slots),
                "--tables",
                str(args.tables),
                "--quota",
                "5",
                "--register-all",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        fair_id = created.stdout.strip()
        start = time.perf_counter()
        planned = subprocess.run(
            flask + ["plan", fair_id], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        print(planned.stdout.strip())
        print(f"`flask fairs plan` wall time {time.perf_counter() - start:.1f}s", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--slots", type=int, default=24)
    parser.add_argument("--tables", type=int, default=400)
    parser.add_argument("--org-quota", type=int, default=None)
    parser.add_argument("--db", action="store_true", help="run through the database and CLI")
    args = parser.parse_args()
    if args.db:
        run_cli(args)
        return
    candidates, listing_quota, excluded = fair_problem(args.seed)
    quotas = Quotas(
        default_listing=5,
        listing=listing_quota,
        default_org=args.org_quota or args.slots,  # one representative: at most one per slot
        total=args.slots * args.tables,
    )
    start, cpu_start = time.perf_counter(), time.process_time()
    best = assign(candidates, quotas, excluded=excluded)
    greedy = greedy_assign(candidates, quotas, excluded=excluded)
    by_id = {c.pair_id: c for c in candidates}
    chosen = [by_id[i] for i in best.pair_ids]
    t0 = time.perf_counter()
    plan = timetable(
        [Booking(c.pair_id, c.need_org, c.achievement_org) for c in chosen], args.slots, args.tables
    )
    t_time = time.perf_counter() - t0
    parties = {
        c.pair_id: [
            ("need", c.need_id),
            ("achievement", c.achievement_id),
            ("org", c.need_org),
            ("org", c.achievement_org),
        ]
        for c in chosen
    }
    listing_deg: dict = {}
    for c in chosen:
        for p in parties[c.pair_id]:
            listing_deg[p] = listing_deg.get(p, 0) + 1
    total = time.perf_counter() - start
    print(
        json.dumps(
            {
                "candidates": len(candidates),
                "excluded": len(excluded),
                "must_meet": sum(c.must_meet for c in candidates),
                "must_meet_missed": len(best.must_meet_missed),
                "meetings": len(best.pair_ids),
                "objective": round(best.objective, 3),
                "greedy_objective": round(greedy.objective, 3),
                "greedy_meetings": len(greedy.pair_ids),
                "gain_vs_greedy_pct": round(100 * (best.objective / greedy.objective - 1), 2),
                "optimal": best.optimal,
                "method": best.method,
                "assign_seconds": round(best.seconds, 2),
                "greedy_seconds": round(greedy.seconds, 2),
                "timetable_seconds": round(t_time, 2),
                "slots_used": plan.slots_used,
                "max_degree": max(listing_deg.values()),
                "lower_bound": plan.lower_bound,
                "kempe_flips": plan.kempe_flips,
                "unplaced": len(plan.unplaced),
                "double_booked": clashes(plan.placement, parties),
                "seconds_total": round(total, 2),
                # CPU time of this process (all threads): what the run costs when the machine is
                # shared.
                "cpu_seconds_total": round(time.process_time() - cpu_start, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
