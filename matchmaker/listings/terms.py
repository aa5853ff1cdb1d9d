"""Search terms of a listing, from the matcher's own jieba tokenization.

The matcher keeps 协作机器人 as one token; a search for 机器人 should still find it, so each
token also contributes the dictionary words inside it (what jieba's search mode does for 2- and
3-character pieces, here for every length). Queries use plain tokens, so a query term matches
a listing when it equals one of the listing's tokens or sub-words.
"""

from matchmaker.matching import tokenize

MAX_TERM = 64
MAX_QUERY_TERMS = 8
TITLE, KEYWORD, BODY = 3, 2, 1


def _dictionary() -> dict:
    # The engine's private jieba instance holds the domain dictionary the matcher segments with.
    from matchmaker.matching.tokenizer import get_tokenizer, load_stopwords

    return get_tokenizer().FREQ, load_stopwords()[1]


def subwords(token: str) -> list[str]:
    """Dictionary words of two or more characters inside a Chinese token (itself excluded)."""
    if len(token) < 3 or token.isascii():
        return []
    freq, stop = _dictionary()
    found = []
    for size in range(2, len(token)):
        for start in range(len(token) - size + 1):
            piece = token[start : start + size]
            if freq.get(piece) and piece not in stop and piece not in found:
                found.append(piece)
    return found


def text_terms(text: str) -> list[str]:
    """Tokens of a text plus their sub-words, in order of appearance."""
    out = []
    for token in tokenize(text or ""):
        out.append(token)
        out.extend(subwords(token))
    return [t for t in out if len(t) <= MAX_TERM]


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
