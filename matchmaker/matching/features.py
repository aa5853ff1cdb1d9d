"""Turn listings into weighted token streams and the analyzers TfidfVectorizer calls."""

from __future__ import annotations

from .listing import Listing, MatchConfig
from .tokenizer import tokenize

_DEFAULT = MatchConfig()


def listing_tokens(listing: Listing, config: MatchConfig | None = None) -> list[str]:
    """Return the weighted tokens of a listing: title and keywords repeated, then the body."""
    config = config or _DEFAULT
    keywords = listing.keywords
    if isinstance(keywords, str):
        keywords = (keywords,)
    extra = {"extra_terms": config.extra_terms, "extra_stopwords": config.extra_stopwords}
    title = tokenize(listing.title or "", **extra)
    keyword_tokens = [t for keyword in keywords or () for t in tokenize(keyword, **extra)]
    body = tokenize(listing.description or "", **extra)
    return (
        title * config.title_weight
        + keyword_tokens * config.keyword_weight
        + body * config.description_weight
    )


def word_analyzer(tokens: list[str]) -> list[str]:
    """Return the word features of a token list (the tokens themselves)."""
    return tokens


def char_analyzer(tokens: list[str]) -> list[str]:
    """Return character-bigram features of the Chinese tokens, plus single-character tokens."""
    grams = []
    for token in tokens:
        parts = _GRAMS.get(token)
        if parts is None:
            parts = _token_grams(token)
        grams.extend(parts)
    return grams


# A vocabulary repeats its tokens across every listing: each token's grams are cut once.
_GRAMS: dict[str, tuple[str, ...]] = {}
_GRAMS_LIMIT = 1_000_000


def _token_grams(token: str) -> tuple[str, ...]:
    if token.isascii():
        parts = ()
    elif len(token) == 1:
        parts = (token,)
    else:
        parts = tuple(token[i : i + 2] for i in range(len(token) - 1))
    if len(_GRAMS) >= _GRAMS_LIMIT:
        _GRAMS.clear()
    _GRAMS[token] = parts
    return parts
