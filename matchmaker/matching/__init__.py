"""The matching engine: tokenize, vectorize, rank, explain. Pure library: no Flask, Celery or ORM.

Names are imported on first use, so ``python -m matchmaker.matching`` can start tokenizing before
numpy, scipy and scikit-learn are loaded. ``searchable_words(text)`` gives the words a listing
search indexes (tokens plus the dictionary words inside them).
"""

from importlib import import_module
from typing import TYPE_CHECKING

_EXPORTS = {
    "MODEL_VERSION": "matcher",
    "DictionaryError": "tokenizer",
    "Listing": "listing",
    "Match": "listing",
    "MatchConfig": "listing",
    "Matcher": "matcher",
    "ModelVersionError": "matcher",
    "dictionary_subwords": "words",
    "dictionary_version": "tokenizer",
    "listing_tokens": "features",
    "searchable_words": "words",
    "tokenize": "tokenizer",
}

__all__ = [
    "MODEL_VERSION",
    "DictionaryError",
    "Listing",
    "Match",
    "MatchConfig",
    "Matcher",
    "ModelVersionError",
    "dictionary_subwords",
    "dictionary_version",
    "listing_tokens",
    "searchable_words",
    "tokenize",
]

if TYPE_CHECKING:
    from .features import listing_tokens
    from .listing import Listing, Match, MatchConfig
    from .matcher import MODEL_VERSION, Matcher, ModelVersionError
    from .tokenizer import DictionaryError, dictionary_version, tokenize
    from .words import dictionary_subwords, searchable_words


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
