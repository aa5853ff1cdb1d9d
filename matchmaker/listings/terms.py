"""Search terms of a listing, from the matcher's own jieba tokenization.

The matcher keeps 协作机器人 as one token; a search for 机器人 should still find it, so each
token also contributes the dictionary words inside it (what jieba's search mode does for 2- and
3-character pieces, here for every length). Queries use plain tokens, so a query term matches
a listing when it equals one of the listing's tokens or sub-words.
"""

from matchmaker.matching import searchable_words, tokenize

MAX_TERM = 64
MAX_QUERY_TERMS = 8
TITLE, KEYWORD, BODY = 3, 2, 1


def text_terms(text: str) -> list[str]:
    """Tokens of a text plus their sub-words, in order of appearance."""
    return [t for t in searchable_words(text) if len(t) <= MAX_TERM]


def listing_terms(title: str, keywords, body: str) -> dict[str, int]:
    """Each search term of a listing with the weight of the best place it occurs."""
    weights: dict[str, int] = {}
    parts = [(title, TITLE), (" ".join(keywords or ()), KEYWORD), (body, BODY)]
    for text, weight in parts:
        for term in text_terms(text):
            if weights.get(term, 0) < weight:
                weights[term] = weight
    return weights


def query_terms(query: str) -> list[str]:
    """The distinct tokens of a search query, as the index stores them."""
    seen = []
    for token in tokenize(query or ""):
        if len(token) <= MAX_TERM and token not in seen:
            seen.append(token)
    return seen[:MAX_QUERY_TERMS]
