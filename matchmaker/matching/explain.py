"""Explain pairs: the terms that contributed most to each pair's cosine, with their share.

Character-bigram features are credited to the shared word that contains them (the one that
contributes most), so a broker reads 光伏组件 rather than 光伏 and 组件; a bigram no shared word
contains is shown as itself only when it is a word itself (光伏), never as a fragment cutting a
word (器人, 0毫). A lone character (性, 图), a pure number (00, 2.5) or a generic word (一套, 研制)
tells a broker nothing and is not shown; it still counts in the score, so the shares shown may
add up to less than 1.
Computed for all pairs at once with array operations.
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp

_NUMBER_RE = re.compile(r"^[0-9.,%+\-]+$")
# Words every listing uses; they explain no pair.
GENERIC_WORDS = frozenset(
    "一套 一种 一批 研制 研究 研发 方法 技术 基于 应用 开发 实现 采用 进行 提供 具有 "
    "相关 需求 需要 问题 能力 公司 企业 单位 项目 成果 合作 解决 提高 提升 通过 利用 "
    "包括 主要 目前 领域".split()
)


def shown_term(term: str) -> bool:
    """Whether a term means something to a person: no lone characters, numbers or generic words."""
    if term in GENERIC_WORDS or _NUMBER_RE.match(term):
        return False
    return len(term) > 1


def gram_containment(
    terms: np.ndarray, n_words: int, words=None
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Return (words x grams containment, each term's sorted position, which terms are shown).

    A gram is shown on its own only when it is a word too (in ``words``, a container of known
    words; by default the word features among terms).
    """
    grams = {gram: j for j, gram in enumerate(terms[n_words:])}
    rows, cols = [], []
    for w in range(n_words):
        word = terms[w]
        if word.isascii():
            continue
        pieces = {word[i : i + 2] for i in range(len(word) - 1)} | set(word)
        for piece in pieces:
            j = grams.get(piece)
            if j is not None:
                rows.append(w)
                cols.append(j)
    owners = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n_words, len(terms) - n_words)
    )
    term_rank = np.empty(len(terms), dtype=np.int64)
    term_rank[np.argsort(terms.astype(str), kind="stable")] = np.arange(len(terms))
    if words is None:
        words = set(terms[:n_words].tolist())
    names = terms.tolist()
    shown = np.fromiter(
        (shown_term(t) and (i < n_words or t in words) for i, t in enumerate(names)),
        dtype=bool,
        count=len(terms),
    )
    return owners, term_rank, shown


def explain_products(
    products: sp.csr_matrix, n_words: int, terms: np.ndarray, owners, limit: int
) -> list[list[tuple[str, float]]]:
    """Per row of elementwise products (pairs x features), the top terms and their shares."""
    containment, term_rank, shown = owners
    n_pairs = products.shape[0]
    coo = products.tocoo()
    pair, feature, value = (
        coo.row.astype(np.int64),
        coo.col.astype(np.int64),
        coo.data.astype(np.float64),
    )
    total = np.bincount(pair, weights=value, minlength=n_pairs)
    is_word = feature < n_words
    w_pair, w_feature, w_value = pair[is_word], feature[is_word], value[is_word]
    g_pair, g_index, g_value = pair[~is_word], feature[~is_word] - n_words, value[~is_word]
    owner = _owning_words(w_pair, w_feature, w_value, g_pair, g_index, containment)
    owned = owner >= 0
    contribution = sp.csr_matrix(
        (
            np.concatenate([w_value, g_value]),
            (
                np.concatenate([w_pair, g_pair]),
                np.concatenate([w_feature, np.where(owned, owner, g_index + n_words)]),
            ),
        ),
        shape=(n_pairs, len(terms)),
    )
    contribution.sum_duplicates()
    rows = np.repeat(np.arange(n_pairs), np.diff(contribution.indptr))
    cols, vals = contribution.indices, contribution.data
    order = np.lexsort((term_rank[cols], -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    visible = shown[cols]
    rows, cols, vals = rows[visible], cols[visible], vals[visible]
    keep = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left") < limit
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    shares = np.floor(vals / total[rows] * 1000) / 1000
    out: list[list[tuple[str, float]]] = [[] for _ in range(n_pairs)]
    names = terms[cols].tolist()
    for row, name, share in zip(rows.tolist(), names, shares.tolist(), strict=True):
        out[row].append((name, share))
    return out


def _owning_words(w_pair, w_feature, w_value, g_pair, g_index, containment) -> np.ndarray:
    """For each gram entry, the pair's heaviest shared word containing it (-1: none)."""
    if len(g_pair) == 0 or len(w_pair) == 0:
        return np.full(len(g_pair), -1, dtype=np.int64)
    n_grams = containment.shape[1]
    counts = np.diff(containment.indptr)[w_feature]
    entry = np.repeat(np.arange(len(w_feature)), counts)
    offsets = np.cumsum(counts) - counts
    slots = containment.indptr[w_feature][entry] + (np.arange(len(entry)) - offsets[entry])
    gram = containment.indices[slots].astype(np.int64)
    code = w_pair[entry] * n_grams + gram
    order = np.lexsort((w_feature[entry], -w_value[entry], code))
    code, words = code[order], w_feature[entry][order]
    first = np.ones(len(code), dtype=bool)
    first[1:] = code[1:] != code[:-1]
    code, words = code[first], words[first]
    wanted = g_pair * n_grams + g_index
    found = np.searchsorted(code, wanted)
    found = np.minimum(found, max(len(code) - 1, 0))
    hit = (
        (len(code) > 0) & (code[found] == wanted)
        if len(code)
        else np.zeros(len(wanted), dtype=bool)
    )
    return np.where(hit, words[found], -1)
