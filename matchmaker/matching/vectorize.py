"""Fit the word and character-gram TF-IDF vectorizers from one count of the words.

A listing's character grams are a fixed function of its words (features.char_analyzer cuts each
Chinese token into bigrams), so its gram counts are its word counts times a words x grams matrix:
one sparse product instead of cutting and counting tens of millions of grams in Python. The
results are ordinary fitted TfidfVectorizers (the vocabulary fixed, the idf set) that turn new
listings into the same features as fitting each one on the documents would.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import scipy.sparse as sp

from .features import char_analyzer, word_analyzer


def fit_vectorizers(docs: list[list[str]], options: dict, with_chars: bool):
    """Return ((word_vectorizer, word_matrix), (char_vectorizer, char_matrix) or (None, None))."""
    from sklearn.feature_extraction.text import CountVectorizer

    counter = CountVectorizer(
        analyzer=word_analyzer, token_pattern=None, lowercase=False, dtype=options["dtype"]
    )
    counts = counter.fit_transform(docs).tocsr()
    words = counter.get_feature_names_out()
    word = _fitted(counts, words, word_analyzer, options)
    if word is None:
        raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
    if not with_chars:
        return word, (None, None)
    grams, gram_matrix = _gram_matrix(words, counts.dtype)
    if not len(grams):  # listings without any Chinese word: words alone
        return word, (None, None)
    char = _fitted(counts @ gram_matrix, grams, char_analyzer, options)
    return word, char if char is not None else (None, None)


def _gram_matrix(words: np.ndarray, dtype) -> tuple[np.ndarray, sp.csr_matrix]:
    """Words x grams: how often each gram occurs in each word; grams sorted like a vectorizer's."""
    rows, cuts = [], []
    for i, word in enumerate(words):
        for gram in char_analyzer([word]):
            rows.append(i)
            cuts.append(gram)
    grams = np.array(sorted(set(cuts)), dtype=object)
    position = {gram: j for j, gram in enumerate(grams)}
    matrix = sp.csr_matrix(
        (np.ones(len(rows), dtype=dtype), (rows, [position[g] for g in cuts])),
        shape=(len(words), len(grams)),
    )
    matrix.sum_duplicates()  # a word may hold the same gram twice (e.g. 哈哈哈)
    return grams, matrix


def _fitted(counts: sp.csr_matrix, terms: np.ndarray, analyzer, options: dict):
    """A TfidfVectorizer fitted as fit_transform would on documents with these counts."""
    from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer

    keep = _within_document_frequency(counts, options["min_df"], options["max_df"])
    if not keep.any():
        return None
    counts, terms = counts[:, keep], terms[keep]
    vectorizer = TfidfVectorizer(
        analyzer=analyzer, vocabulary={t: i for i, t in enumerate(terms)}, **options
    )
    transformer = TfidfTransformer(
        norm=vectorizer.norm,
        use_idf=vectorizer.use_idf,
        smooth_idf=vectorizer.smooth_idf,
        sublinear_tf=vectorizer.sublinear_tf,
    )
    matrix = transformer.fit(counts).transform(counts, copy=False)
    vectorizer.idf_ = transformer.idf_
    return vectorizer, matrix


def _within_document_frequency(counts: sp.csr_matrix, min_df, max_df) -> np.ndarray:
    n_docs = counts.shape[0]
    high = max_df if isinstance(max_df, Integral) else max_df * n_docs
    low = min_df if isinstance(min_df, Integral) else min_df * n_docs
    if high < low:
        raise ValueError("max_df corresponds to < documents than min_df")
    frequency = np.bincount(counts.indices, minlength=counts.shape[1])
    return (frequency >= low) & (frequency <= high)
