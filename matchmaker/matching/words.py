"""The searchable words of a text: the matcher's own tokens plus the dictionary words inside them.

The matcher keeps 协作机器人 as one token; a search for 机器人 should still find it, so each token
also contributes the dictionary words of two or more characters inside it (what jieba's search
mode does for 2- and 3-character pieces, here for every length). Callers outside the engine use
these functions instead of reaching into the private jieba instance.
"""

from __future__ import annotations

from .tokenizer import get_tokenizer, load_stopwords, tokenize


def dictionary_subwords(token: str) -> list[str]:
    """Return the dictionary words (two or more characters, no stop words) inside a token."""
    if len(token) < 3 or token.isascii():
        return []
    freq, stop = get_tokenizer().FREQ, load_stopwords()[1]
    found: list[str] = []
    for size in range(2, len(token)):
        for start in range(len(token) - size + 1):
            piece = token[start : start + size]
            if freq.get(piece) and piece not in stop and piece not in found:
                found.append(piece)
    return found


def searchable_words(text: str) -> list[str]:
    """Return the searchable words of a text: each token, then the dictionary words inside it."""
    words: list[str] = []
    for token in tokenize(text or ""):
        words.append(token)
        words.extend(dictionary_subwords(token))
    return words
