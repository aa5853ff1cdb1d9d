"""Domain terms, stop words and synonym groups that staff add on top of the engine's files.

A change takes effect with the next model rebuild: the vocabulary is part of the model version.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from matchmaker.core.exceptions import Conflict, NotFound, ServiceError
from matchmaker.core.extensions import db
from matchmaker.runs.models import SynonymGroup, VocabularyEntry

KIND_LABELS = {"term": "领域词", "stopword": "停用词", "synonym": "同义词组"}
MAX_WORD = 40
MAX_GROUP = 10
# Staff may separate a group's words with =, commas, 、, ；, / or spaces.
GROUP_SEPARATORS = re.compile(r"[=＝,，、;；/\s]+")


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


def synonym_groups() -> list[SynonymGroup]:
    return list(db.session.scalars(select(SynonymGroup).order_by(SynonymGroup.words)))


def synonyms() -> tuple[tuple[str, ...], ...]:
    """Return the staff synonym groups, sorted, as the engine's MatchConfig takes them."""
    return tuple(tuple(group.members) for group in synonym_groups())


def starter_synonyms() -> tuple[tuple[str, ...], ...]:
    """The groups the engine ships (matching/data/synonyms.txt), shown beside the staff's own."""
    from matchmaker.matching.synonyms import load_synonyms

    return load_synonyms()[1]


def match_config():
    """Return the engine configuration with the staff vocabulary."""
    from matchmaker.matching import MatchConfig

    terms, stops = words()
    return MatchConfig(extra_terms=terms, extra_stopwords=stops, synonyms=synonyms())


def add(kind: str, word: str, user_id: int | None = None) -> VocabularyEntry:
    """Add a term or stop word; refuse blanks, spaces, overlong words and duplicates."""
    if kind == "synonym":
        return add_synonyms(word, user_id)
    if kind not in KIND_LABELS:
        raise ServiceError("类型必须是领域词、停用词或同义词组", field="kind")
    word = _normalize(word)
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


def _normalize(word: str) -> str:
    return unicodedata.normalize("NFKC", word or "").strip().lower()


def add_synonyms(text: str, user_id: int | None = None) -> SynonymGroup:
    """Add a group of words that mean the same, e.g. "探伤 = 无损检测"; refuse repeats."""
    members = list(dict.fromkeys(w for w in GROUP_SEPARATORS.split(_normalize(text)) if w))
    if len(members) < 2:
        raise ServiceError(
            "同义词组至少需要两个不同的词，用“=”分隔，如：探伤 = 无损检测", field="word"
        )
    if len(members) > MAX_GROUP:
        raise ServiceError(f"一个同义词组最多 {MAX_GROUP} 个词", field="word")
    too_long = [w for w in members if len(w) > MAX_WORD]
    if too_long:
        raise ServiceError(
            f"词语不能超过 {MAX_WORD} 个字符：{too_long[0][:MAX_WORD]}…", field="word"
        )
    if len("=".join(members)) > 400:
        raise ServiceError("同义词组过长，请拆成几组", field="word")
    # The engine keeps each word in one group only; say which group already has it.
    taken = {w: group for group in starter_synonyms() for w in group}
    for group in synonym_groups():
        if set(group.members) == set(members):
            raise Conflict(f"同义词组“{' = '.join(group.members)}”已存在", field="word")
        taken.update({w: tuple(group.members) for w in group.members})
    for word in members:
        if word in taken:
            raise Conflict(
                f"“{word}”已在同义词组“{' = '.join(taken[word])}”中，一个词只能属于一组",
                field="word",
            )
    group = SynonymGroup(words="=".join(members), created_by_id=user_id)
    db.session.add(group)
    db.session.commit()
    return group


def remove_synonyms(group_id: int) -> None:
    group = db.session.get(SynonymGroup, group_id)
    if group is None:
        raise NotFound("该同义词组不存在或已删除")
    db.session.delete(group)
    db.session.commit()
