"""The domain packages depend on each other one way only (see matchmaker/app.py DOMAINS).

A small walk over the import statements of matchmaker/ and workers/ (lazy imports inside
functions count too): a domain may import core, matching and the domains before it in ORDER,
never one after it, and no two domains may import each other.
"""

import ast
from collections import defaultdict
from pathlib import Path

from matchmaker.app import DOMAINS

ROOT = Path(__file__).resolve().parents[1]
# matching is the pure engine and core the shared parts: every domain may use them.
ORDER = ("matching", "core", *DOMAINS)
# Known imports against the order, each with its place and why. An import not listed here
# fails the test. (Listings read their pairs through core.listing_pairs, issue 12.)
KNOWN_UPWARD: dict[tuple[str, str], set[str]] = {}


def _domain(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "workers":
        return "workers"
    if parts[0] == "matchmaker" and len(parts) > 1 and parts[1] in ORDER:
        return parts[1]
    return None


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def domain_imports() -> dict[tuple[str, str], set[str]]:
    """(importing domain, imported domain) -> files, for every import between two domains."""
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in sorted([*(ROOT / "matchmaker").rglob("*.py"), *(ROOT / "workers").rglob("*.py")]):
        source = _domain(_module_name(path))
        if source is None:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in {_domain(t) for t in targets} - {None, source}:
                edges[(source, target)].add(str(path.relative_to(ROOT)))
    return edges


def test_every_domain_package_is_in_the_declared_order():
    packages = {
        p.parent.name
        for p in (ROOT / "matchmaker").glob("*/__init__.py")
        if p.parent.name != "static"
    }
    assert packages == set(ORDER)


def test_domains_import_only_the_ones_before_them():
    rank = {name: i for i, name in enumerate(ORDER)}
    wrong = []
    for (source, target), files in sorted(domain_imports().items()):
        if source == "workers":
            continue  # the worker entry sits above every domain
        if target == "workers":
            wrong.append(f"{source} imports the worker package: {sorted(files)}")
        elif rank[target] > rank[source]:
            unexpected = files - KNOWN_UPWARD.get((source, target), set())
            if unexpected:
                wrong.append(
                    f"{source} imports {target}, which comes after it: {sorted(unexpected)}"
                )
    assert wrong == []


def test_known_exceptions_are_still_needed():
    # A listed exception that was fixed must leave the list, so it cannot come back unseen.
    edges = domain_imports()
    for key, files in KNOWN_UPWARD.items():
        assert files <= edges.get(key, set()), key


def test_no_import_cycle_between_domains():
    graph = defaultdict(set)
    for (source, target), files in domain_imports().items():
        if files - KNOWN_UPWARD.get((source, target), set()):
            graph[source].add(target)
    cycles = []

    def visit(node, path):
        for nxt in sorted(graph[node]):
            if nxt in path:
                cycles.append(path[path.index(nxt) :] + [nxt])
            elif len(path) < len(ORDER) + 1:
                visit(nxt, path + [nxt])

    for start in sorted(graph):
        visit(start, [start])
    assert cycles == []


def test_engine_imports_nothing_of_the_platform():
    for (source, target), files in domain_imports().items():
        assert source != "matching", f"matching imports {target}: {sorted(files)}"
    banned = ("flask", "celery", "sqlalchemy", "flask_sqlalchemy", "redis")
    for path in (ROOT / "matchmaker" / "matching").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                assert name.split(".")[0] not in banned, f"{path}: imports {name}"
