"""您是不是要找: when a search finds nothing, offer the index's own terms that sound or look like
the query (机器仁 → 机器人, 无损检侧 → 无损检测).

Candidates come from the term index of published listings only (so a suggestion never reveals a
word of a draft). A term is close when it reads the same in pinyin (pypinyin, tones dropped —
the usual cause of a wrong character from a pinyin input method), or is one edit away (two for
longer words). The whole query is tried first, then each of its words.
"""

import time

from pypinyin import lazy_pinyin
from sqlalchemy import func, select

from matchmaker.core.extensions import db
from matchmaker.listings.posting import kind_of
from matchmaker.listings.terms import query_terms

CACHE_SECONDS = 300
MAX_QUERY = 20
_cache: dict[str, tuple[float, dict[str, int]]] = {}


def _vocabulary(kind) -> dict[str, int]:
    """Index term → number of published listings that have it (cached a few minutes)."""
    hit = _cache.get(kind.name)
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    t = kind.terms
    rows = db.session.execute(
        select(t.c.term, func.count())
        .join(kind.model, kind.model.id == t.c.listing_id)
        .where(kind.model.status == "published")
        .group_by(t.c.term)
    ).all()
    vocab = {term: n for term, n in rows if 2 <= len(term) <= MAX_QUERY}
    _cache[kind.name] = (time.monotonic(), vocab)
    return vocab


def clear_cache() -> None:
    _cache.clear()


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _sound(word: str) -> str:
    return "".join(lazy_pinyin(word))


def closest(word: str, vocab: dict[str, int], limit: int = 3) -> list[str]:
    """Index terms close to `word`: same pinyin first, then fewest edits, then most used."""
    if not word or word in vocab:
        return []
    allowed = 1 if len(word) < 5 else 2
    sound = _sound(word)
    found = []
    for term, count in vocab.items():
        if abs(len(term) - len(word)) > allowed:
            continue
        same_sound = len(term) == len(word) and _sound(term) == sound
        distance = edit_distance(word, term)
        if same_sound or distance <= allowed and distance < len(word):
            found.append((0 if same_sound else 1, distance, -count, term))
    return [term for *_, term in sorted(found)[:limit]]


def did_you_mean(kind_name: str, query: str, limit: int = 3) -> list[str]:
    """Corrected queries for a search that found nothing; [] when there is nothing close."""
    query = (query or "").strip()
    if not query or len(query) > MAX_QUERY:
        return []
    vocab = _vocabulary(kind_of(kind_name))
    whole = closest(query.replace(" ", ""), vocab, limit)
    if whole:
        return whole
    words = query_terms(query)
    fixed, changed = [], False
    for word in words:
        if word in vocab:
            fixed.append(word)
            continue
        better = closest(word, vocab, 1)
        fixed.append(better[0] if better else word)
        changed = changed or bool(better)
    return [" ".join(fixed)] if changed and all(w in vocab for w in fixed) else []
