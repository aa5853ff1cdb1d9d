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
    # Staff synonyms are words too, so the synonym table sees them whole.
    terms = (*config.extra_terms, *(t for group in config.synonyms for t in group))
    extra = {"extra_terms": terms, "extra_stopwords": config.extra_stopwords}
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
        if token.isascii():
            continue
        if len(token) == 1:
            grams.append(token)
        else:
            grams.extend(token[i : i + 2] for i in range(len(token) - 1))
    return grams
