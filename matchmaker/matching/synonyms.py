"""Synonym groups: terms posters use for the same thing, folded to one term before vectorizing.

The shipped groups live in the versioned ``data/synonyms.txt``; staff add groups through
``MatchConfig.synonyms``. Every term of a group is known to the tokenizer as a word (so 无损检测
stays whole) and is replaced by the group's first term, so 探伤 and 无损检测 are one feature.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from .tokenizer import DATA_DIR, DictionaryError, _read_lines

SYNONYMS_PATH = DATA_DIR / "synonyms.txt"
_SPLIT_RE = re.compile(r"[\s、]+")


def parse_synonyms(lines: Iterable[tuple[int, str]], source: str | Path) -> tuple:
    """Validate (line number, line) pairs into groups of normalized terms; raise DictionaryError."""
    groups, seen = [], {}
    for number, line in lines:
        terms = [_norm(t) for t in _SPLIT_RE.split(line) if t.strip()]
        terms = list(dict.fromkeys(terms))
        if len(terms) < 2:
            raise DictionaryError(f"{source}:{number}: a group needs at least two different terms")
        for term in terms:
            if term in seen:
                raise DictionaryError(
                    f"{source}:{number}: {term!r} is already in the group on line {seen[term]}"
                )
            seen[term] = number
        groups.append(tuple(terms))
    return tuple(groups)


@lru_cache(maxsize=1)
def load_synonyms() -> tuple[str, tuple[tuple[str, ...], ...]]:
    """Read and validate the shipped synonym file: (version, groups)."""
    version, lines = _read_lines(SYNONYMS_PATH)
    return version, parse_synonyms(lines, SYNONYMS_PATH)


def synonym_groups(extra: Iterable[Iterable[str]] = ()) -> tuple[tuple[str, ...], ...]:
    """The shipped groups plus staff groups (validated together: a term in one group only)."""
    base = load_synonyms()[1]
    extra = tuple(tuple(g) for g in extra or ())
    if not extra:
        return base
    lines = [(i, " ".join(g)) for i, g in enumerate((*base, *extra), 1)]
    return parse_synonyms(lines, "synonyms")


@lru_cache(maxsize=8)
def synonym_map(extra: tuple[tuple[str, ...], ...] = ()) -> dict[str, str]:
    """Each synonym term (other than a group's first) mapped to its group's first term."""
    return {t: group[0] for group in synonym_groups(extra) for t in group[1:]}


def synonym_terms(extra: tuple[tuple[str, ...], ...] = ()) -> tuple[str, ...]:
    """Every term of every group, for the tokenizer to keep whole."""
    return tuple(t for group in synonym_groups(extra) for t in group)


def fold(tokens: Iterable[str], mapping: dict[str, str]) -> list[str]:
    """Replace each synonym by its group's first term."""
    if not mapping:
        return list(tokens)
    return [mapping.get(t, t) for t in tokens]


def _norm(term: str) -> str:
    return unicodedata.normalize("NFKC", term).strip().lower()
