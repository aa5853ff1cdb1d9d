"""The matching engine: tokenize, vectorize, rank, explain. Pure library: no Flask, Celery or ORM."""

from .features import listing_tokens
from .listing import Listing, Match, MatchConfig
from .matcher import MODEL_VERSION, Matcher, ModelVersionError
from .tokenizer import DictionaryError, dictionary_version, tokenize

__all__ = [
    "MODEL_VERSION",
    "DictionaryError",
    "Listing",
    "Match",
    "MatchConfig",
    "Matcher",
    "ModelVersionError",
    "dictionary_version",
    "listing_tokens",
    "tokenize",
]
