"""Vectorize listings published since the fit as a refit would, without refitting.

Terms the fitted vocabulary lacks (often the very words two new listings share) become extra
columns after the fitted ones, and every term's IDF counts the new listings too, so the vectors of
the new listings are those a refit on fitted + new listings would give them. Column layout:
fitted words | fitted character grams | new words | new grams. Fitted vectors are unchanged
(their IDF would move by about new/fitted listings, negligible).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .explain import explain_products, gram_containment
from .features import char_analyzer
from .sparse_ops import normalize_rows


@dataclass
class Extended:
    """New listings' vectors in the extended feature space and the names of the extra terms."""

    matrix: sp.csr_matrix
    new_words: list[str]
    new_grams: list[str]

    @property
    def width(self) -> int:
        return self.matrix.shape[1]


def vectorize_new(matcher, listings: Sequence, replaced: sp.csr_matrix | None = None) -> Extended:
    """Return the listings' vectors over the fitted terms plus the terms only they use.

    ``replaced`` holds the fitted rows of listings among them that were fitted before (edited
    or re-sent): a refit counts those once, so their old terms leave the document frequencies.
    """
    docs = [matcher._tokens(x) for x in listings]
    n_words = len(matcher.word_vectorizer_.vocabulary_)
    old = sp.csr_matrix((0, len(matcher.terms_))) if replaced is None else replaced
    n_fitted = len(matcher.achievement_ids_) + len(matcher.need_ids_)
    sizes = (n_fitted, n_fitted - old.shape[0])
    gone = np.bincount(old.indices, minlength=len(matcher.terms_))
    cfg = matcher.config
    words, new_words = _block(matcher.word_vectorizer_, docs, sizes, gone[:n_words], cfg)
    chars = new_grams = None
    if matcher.char_vectorizer_ is not None:
        grams = [char_analyzer(d) for d in docs]
        chars, new_grams = _block(matcher.char_vectorizer_, grams, sizes, gone[n_words:], cfg)
    weight = matcher.config.char_weight
    if chars is None:
        pieces = [words]
    else:
        n_grams = len(matcher.char_vectorizer_.vocabulary_)
        w, c = math.sqrt(1 - weight), math.sqrt(weight)
        pieces = [words[:, :n_words] * w, chars[:, :n_grams] * c, words[:, n_words:] * w]
        pieces.append(chars[:, n_grams:] * c)
    matrix = matcher.pivot(matcher._cap(sp.hstack(pieces, format="csr").astype(np.float32)))
    return Extended(matrix, new_words, new_grams or [])


def _block(vectorizer, docs, sizes, gone, config) -> tuple[sp.csr_matrix, list[str]]:
    """TF-IDF rows over the vectorizer's vocabulary plus the docs' unseen terms (appended)."""
    n_fitted, n_docs = sizes
    vocabulary = vectorizer.vocabulary_
    counts = [Counter(d) for d in docs]
    frequency = Counter(t for c in counts for t in c)
    new = sorted(t for t, df in frequency.items() if t not in vocabulary and df >= config.min_df)
    columns = {t: len(vocabulary) + i for i, t in enumerate(new)}
    rows, cols, values = [], [], []
    for i, doc in enumerate(counts):
        for term, count in doc.items():
            col = vocabulary.get(term, columns.get(term))
            if col is not None:
                rows.append(i)
                cols.append(col)
                values.append(count)
    width = len(vocabulary) + len(new)
    tf = sp.csr_matrix((np.array(values, dtype=np.float64), (rows, cols)), shape=(len(docs), width))
    if config.sublinear_tf:
        tf.data = 1 + np.log(tf.data)
    total = n_docs + len(docs)  # n_docs: fitted listings that stay as they were
    fitted_df = (1 + n_fitted) / np.exp(vectorizer.idf_.astype(np.float64) - 1) - 1
    df = np.concatenate([np.rint(fitted_df) - gone, np.zeros(len(new))])
    df += np.bincount(tf.indices, minlength=width)
    idf = np.log((1 + total) / (1 + df)) + 1
    return normalize_rows(tf @ sp.diags(idf)).astype(np.float32), new


def widen_columns(matrix: sp.csr_matrix, width: int) -> sp.csr_matrix:
    """The same rows with empty columns appended up to width (no copy of the data)."""
    if matrix.shape[1] >= width:
        return matrix
    return sp.csr_matrix(
        (matrix.data, matrix.indices, matrix.indptr), shape=(matrix.shape[0], width)
    )


def explain_pairs(matcher, left: sp.csr_matrix, right: sp.csr_matrix, extended: Extended) -> list:
    """Explain row i of left with row i of right, over fitted and new terms alike."""
    if left.shape[0] == 0:
        return []
    width = max(left.shape[1], right.shape[1])
    products = widen_columns(left, width).multiply(widen_columns(right, width)).tocsr()
    products.eliminate_zeros()
    used = np.unique(products.indices)
    n_words, n_fitted = matcher.n_word_features_, len(matcher.terms_)
    n_new_words = len(extended.new_words)
    is_word = (used < n_words) | ((used >= n_fitted) & (used < n_fitted + n_new_words))
    ordered = np.concatenate([used[is_word], used[~is_word]])
    names = np.array([_name(matcher, extended, c) for c in ordered.tolist()], dtype=object)
    remap = np.empty(width, dtype=np.int64)
    remap[ordered] = np.arange(len(ordered))
    compact = sp.csr_matrix(
        (products.data, remap[products.indices], products.indptr),
        shape=(products.shape[0], len(ordered)),
    )
    owners = gram_containment(names, int(is_word.sum()), _KnownWords(matcher, extended))
    return explain_products(
        compact, int(is_word.sum()), names, owners, matcher.config.explain_terms
    )


def _name(matcher, extended: Extended, column: int) -> str:
    n_fitted = len(matcher.terms_)
    if column < n_fitted:
        return matcher.terms_[column]
    column -= n_fitted
    if column < len(extended.new_words):
        return extended.new_words[column]
    return extended.new_grams[column - len(extended.new_words)]


class _KnownWords:
    """Membership in the fitted word vocabulary plus the new words."""

    def __init__(self, matcher, extended: Extended):
        self.fitted = matcher.word_vectorizer_.vocabulary_
        self.new = set(extended.new_words)

    def __contains__(self, term) -> bool:
        return term in self.fitted or term in self.new
