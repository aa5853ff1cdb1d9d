"""Domain terms and stop words that staff add on top of the engine's shipped dictionary.

A change takes effect with the next model rebuild: the vocabulary is part of the model version.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from matchmaker.extensions import db
from matchmaker.models import VocabularyEntry
from matchmaker.services import Conflict, NotFound, ServiceError

KIND_LABELS = {"term": "领域词", "stopword": "停用词"}
MAX_WORD = 40


def entries(kind: str | None = None) -> list[VocabularyEntry]:
    query = select(VocabularyEntry).order_by(VocabularyEntry.kind, VocabularyEntry.word)
    if kind:
        query = query.where(VocabularyEntry.kind == kind)
    return list(db.session.scalars(query))


def words() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return (terms, stop words), sorted, as the engine's MatchConfig takes them."""
    rows = entries()
    terms = tuple(sorted(e.word for e in rows if e.kind == "term"))
    stops = tuple(sorted(e.word for e in rows if e.kind == "stopword"))
    return terms, stops


def match_config():
    """Return the engine configuration with the staff vocabulary."""
    from matchmaker.matching import MatchConfig

    terms, stops = words()
    return MatchConfig(extra_terms=terms, extra_stopwords=stops)


def add(kind: str, word: str, user_id: int | None = None) -> VocabularyEntry:
    """Add a term or stop word; refuse blanks, spaces, overlong words and duplicates."""
    if kind not in KIND_LABELS:
        raise ServiceError("类型必须是领域词或停用词", field="kind")
    word = unicodedata.normalize("NFKC", word or "").strip().lower()
    if not word:
        raise ServiceError("请输入词语", field="word")
    if any(ch.isspace() for ch in word):
        raise ServiceError("词语中不能有空格", field="word")
    if len(word) > MAX_WORD:
        raise ServiceError(f"词语不能超过 {MAX_WORD} 个字符", field="word")
    entry = VocabularyEntry(kind=kind, word=word, created_by_id=user_id)
    db.session.add(entry)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"{KIND_LABELS[kind]}“{word}”已存在", field="word") from None
    return entry


def remove(entry_id: int) -> None:
    entry = db.session.get(VocabularyEntry, entry_id)
    if entry is None:
        raise NotFound("该词语不存在或已删除")
    db.session.delete(entry)
    db.session.commit()
