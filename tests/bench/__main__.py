"""`make bench`: run every benchmark in turn; each prints its figures beside its baseline."""

import importlib.util
import subprocess
import sys

BENCHES = (
    "tests.bench.bench_matching",
    "tests.bench.bench_scale",
    "tests.bench.bench_jobs",
    "tests.bench.bench_search",
    "tests.bench.bench_bulk_load",
    "tests.bench.bench_fairs",
    "tests.bench.bench_web",
)


def main() -> int:
    failed = []
    for name in BENCHES:
        if importlib.util.find_spec(name) is None:
            continue
        print(f"\n===== {name}", flush=True)
        if subprocess.run([sys.executable, "-m", name]).returncode != 0:
            failed.append(name)
    if failed:
        print(f"benchmarks that failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
