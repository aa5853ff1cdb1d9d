"""The Matcher: fit TF-IDF on achievements and needs together, rank both ways, explain."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .features import char_analyzer, listing_tokens, word_analyzer
from .listing import Listing, Match, MatchConfig
from .ranking import Side, top_k
from .tokenizer import dictionary_version

MODEL_VERSION = "1"
KINDS = ("need", "achievement")


class ModelVersionError(RuntimeError):
    """A saved model was built by another model, dictionary or library version."""


class Matcher:
    """Rank achievements for needs and needs for achievements by weighted TF-IDF similarity."""

    def __init__(self, config: MatchConfig | None = None, n_jobs: int = 1):
        self.config = config or MatchConfig()
        self.n_jobs = n_jobs

    @property
    def version(self) -> str:
        """Return the model version tied to the dictionary version."""
        return f"{MODEL_VERSION}+dict{dictionary_version()}"

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, achievements: Sequence[Listing], needs: Sequence[Listing]) -> Matcher:
        """Fit the vocabulary and IDF on both sides and vectorize every listing."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        cfg = self.config
        docs = [self._tokens(x) for x in achievements] + [self._tokens(x) for x in needs]
        options = dict(
            token_pattern=None,
            lowercase=False,
            sublinear_tf=cfg.sublinear_tf,
            min_df=cfg.min_df,
            max_df=cfg.max_df,
            dtype=np.float32,
        )
        self.word_vectorizer_ = TfidfVectorizer(analyzer=word_analyzer, **options)
        words = self.word_vectorizer_.fit_transform(docs)
        if cfg.char_weight > 0:
            self.char_vectorizer_ = TfidfVectorizer(analyzer=char_analyzer, **options)
            chars = self.char_vectorizer_.fit_transform(docs)
        else:
            self.char_vectorizer_ = None
            chars = None
        matrix = self._combine(words, chars)
        self.n_word_features_ = words.shape[1]
        self.terms_ = np.concatenate(
            [
                self.word_vectorizer_.get_feature_names_out(),
                self.char_vectorizer_.get_feature_names_out() if chars is not None else [],
            ]
        ).astype(object)
        n = len(achievements)
        self.achievement_ids_ = [x.id for x in achievements]
        self.need_ids_ = [x.id for x in needs]
        self.fields_ = {f: i for i, f in enumerate(sorted({x.field for x in [*achievements, *needs]} - {None, ""}))}
        orgs = {x.org for x in [*achievements, *needs]} - {None, ""}
        self.orgs_ = {o: i for i, o in enumerate(sorted(orgs, key=_id_key))}
        self.sides_ = {
            "achievement": self._side(matrix[:n], achievements),
            "need": self._side(matrix[n:], needs),
        }
        self.positions_ = {
            "achievement": {x: i for i, x in enumerate(self.achievement_ids_)},
            "need": {x: i for i, x in enumerate(self.need_ids_)},
        }
        return self

    def _tokens(self, listing: Listing) -> list[str]:
        if listing.tokens is not None:
            return list(listing.tokens)
        return listing_tokens(listing, self.config)

    def _combine(self, words, chars) -> sp.csr_matrix:
        weight = self.config.char_weight
        if chars is None:
            return words.tocsr()
        return sp.hstack([words * math.sqrt(1 - weight), chars * math.sqrt(weight)], format="csr")

    def _vectorize(self, listings: Sequence[Listing]) -> sp.csr_matrix:
        docs = [self._tokens(x) for x in listings]
        words = self.word_vectorizer_.transform(docs)
        chars = self.char_vectorizer_.transform(docs) if self.char_vectorizer_ is not None else None
        return self._combine(words, chars)

    def _side(self, matrix, listings: Sequence[Listing]) -> Side:
        ids = [x.id for x in listings]
        order = np.empty(len(ids), dtype=np.int64)
        order[sorted(range(len(ids)), key=lambda i: _id_key(ids[i]))] = np.arange(len(ids))
        return Side(
            vectors=matrix.tocsr(),
            fields=np.array([self.fields_.get(x.field, -1 if not x.field else len(self.fields_)) for x in listings], dtype=np.int64),
            orgs=np.array([self.orgs_.get(x.org, -1 if x.org in (None, "") else len(self.orgs_)) for x in listings], dtype=np.int64),
            order=order,
        )

    # -- ranking ---------------------------------------------------------------------------
    def rank_needs(
        self, need_ids: Iterable | None = None, top_k: int = 10, min_score: float | None = None,
        achievement_ids: Iterable | None = None, field: str | None = None,
    ) -> list[Match]:
        """Return, for each need (or the given subset), its top-k achievements best first."""
        return self._rank("need", need_ids, top_k, min_score, achievement_ids, field)

    def rank_achievements(
        self, achievement_ids: Iterable | None = None, top_k: int = 10, min_score: float | None = None,
        need_ids: Iterable | None = None, field: str | None = None,
    ) -> list[Match]:
        """Return, for each achievement (or the given subset), its top-k needs best first."""
        return self._rank("achievement", achievement_ids, top_k, min_score, need_ids, field)

    def rank(self, top_k: int = 10, min_score: float | None = None) -> list[Match]:
        """Rank both ways and merge per pair, keeping each side's rank (None if outside its top-k)."""
        pairs: dict[tuple, Match] = {}
        for match in self.rank_needs(top_k=top_k, min_score=min_score):
            pairs[(match.need_id, match.achievement_id)] = match
        for match in self.rank_achievements(top_k=top_k, min_score=min_score):
            key = (match.need_id, match.achievement_id)
            if key in pairs:
                pairs[key].achievement_rank = match.achievement_rank
            else:
                pairs[key] = match
        return sorted(pairs.values(), key=lambda m: (_id_key(m.need_id), -m.score, _id_key(m.achievement_id)))

    def _rank(self, kind, query_ids, k, min_score, candidate_ids, field) -> list[Match]:
        other = _other(kind)
        queries = self.sides_[kind]
        rows = None
        if query_ids is not None:
            rows = np.array([self.positions_[kind][x] for x in query_ids], dtype=np.int64)
            queries = _subset(queries, rows)
        allowed = self._allowed(other, candidate_ids, field)
        return self._collect(kind, queries, rows, None, k, min_score, allowed)

    def _allowed(self, kind, ids, field) -> np.ndarray | None:
        if ids is None and field is None:
            return None
        side = self.sides_[kind]
        mask = np.ones(side.vectors.shape[0], dtype=bool)
        if ids is not None:
            mask[:] = False
            positions = self.positions_[kind]
            mask[[positions[x] for x in ids if x in positions]] = True
        if field is not None:
            mask &= side.fields == self.fields_.get(field, -2)
        return mask

    def _collect(self, kind, queries, rows, query_listing_ids, k, min_score, allowed) -> list[Match]:
        other = _other(kind)
        cfg = self.config
        threshold = cfg.min_score if min_score is None else min_score
        search = queries
        if cfg.feedback_docs > 0 and cfg.feedback_weight > 0:
            search = self._expand(queries, other, allowed)
        blocks = list(
            top_k(search, self.sides_[other], k, threshold, cfg.cross_field_factor, allowed, cfg.chunk_cells, self.n_jobs)
        )
        if not blocks:
            return []
        q = np.concatenate([b[0] for b in blocks])
        c = np.concatenate([b[1] for b in blocks])
        s = np.concatenate([b[2] for b in blocks])
        ranks = np.arange(len(q)) - np.searchsorted(q, q, side="left") + 1
        own_ids = query_listing_ids or self._ids(kind)
        other_ids = self._ids(other)
        q_global = q if rows is None else rows[q]
        terms = self._explain(queries.vectors[q], self.sides_[other].vectors[c])
        same = (queries.fields[q] == self.sides_[other].fields[c]) & (queries.fields[q] >= 0)
        matches = []
        for i in range(len(q)):
            own, theirs = own_ids[q_global[i]], other_ids[c[i]]
            rank = int(ranks[i])
            if kind == "need":
                match = Match(own, theirs, float(s[i]), rank, None, terms[i], bool(same[i]))
            else:
                match = Match(theirs, own, float(s[i]), None, rank, terms[i], bool(same[i]))
            matches.append(match)
        return matches

    def _expand(self, queries: Side, other: str, allowed) -> Side:
        """Pseudo-relevance feedback: add the query's best candidates' vectors to the query."""
        cfg = self.config
        candidates = self.sides_[other]
        blocks = list(
            top_k(queries, candidates, cfg.feedback_docs, cfg.min_score, cfg.cross_field_factor, allowed, cfg.chunk_cells, self.n_jobs)
        )
        n = queries.vectors.shape[0]
        if blocks:
            rows = np.concatenate([b[0] for b in blocks])
            cols = np.concatenate([b[1] for b in blocks])
            weights = np.concatenate([b[2] for b in blocks])
        else:
            rows = cols = np.zeros(0, dtype=np.int64)
            weights = np.zeros(0)
        feedback = sp.csr_matrix((weights, (rows, cols)), shape=(n, candidates.vectors.shape[0]))
        centroid = _normalize_rows(_top_per_row(sp.csr_matrix(feedback @ candidates.vectors), cfg.feedback_terms))
        expanded = _normalize_rows(queries.vectors + cfg.feedback_weight * centroid).astype(np.float32)
        return Side(expanded.tocsr(), queries.fields, queries.orgs, queries.order)

    def _ids(self, kind):
        return self.need_ids_ if kind == "need" else self.achievement_ids_

    # -- incremental -----------------------------------------------------------------------
    def match_listing(self, listing: Listing, kind: str, top_k: int = 10, min_score: float | None = None) -> list[Match]:
        """Rank the other side for one new or edited listing without refitting."""
        if kind not in KINDS:
            raise ValueError(f"kind must be 'need' or 'achievement', not {kind!r}")
        query = self._side(self._vectorize([listing]), [listing])
        return self._collect(kind, query, None, [listing.id], top_k, min_score, None)

    # -- explanation -----------------------------------------------------------------------
    def _explain(self, left: sp.csr_matrix, right: sp.csr_matrix) -> list[list[tuple[str, float]]]:
        """Return per pair the top terms with their share of the (unboosted) cosine."""
        products = left.multiply(right).tocsr()
        n_words, limit = self.n_word_features_, self.config.explain_terms
        out = []
        for i in range(products.shape[0]):
            lo, hi = products.indptr[i], products.indptr[i + 1]
            idx, val = products.indices[lo:hi], products.data[lo:hi].astype(np.float64)
            total = val.sum()
            if total <= 0:
                out.append([])
                continue
            words = {self.terms_[j]: v for j, v in zip(idx, val, strict=True) if j < n_words}
            for j, v in zip(idx, val, strict=True):
                if j >= n_words:
                    gram = self.terms_[j]
                    owner = max((w for w in words if gram in w), key=words.get, default=None)
                    if owner is None:
                        words[gram] = words.get(gram, 0.0) + v
                    else:
                        words[owner] += v
            best = sorted(words.items(), key=lambda item: (-item[1], item[0]))[:limit]
            out.append([(term, math.floor(v / total * 1000) / 1000) for term, v in best])
        return out

    # -- persistence -----------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Save the fitted matcher with its model, dictionary and library versions."""
        import joblib

        joblib.dump({"versions": _versions(), "matcher": self}, path)

    @classmethod
    def load(cls, path: str | Path) -> Matcher:
        """Load a saved matcher, refusing one built by other versions."""
        import joblib

        payload = joblib.load(path)
        if not isinstance(payload, dict) or "versions" not in payload:
            raise ModelVersionError(f"{path}: not a matchmaker model file")
        saved, current = payload["versions"], _versions()
        diffs = [f"{key} {saved.get(key)} (saved) != {current[key]} (running)" for key in current if saved.get(key) != current[key]]
        if diffs:
            raise ModelVersionError(f"{path}: model was built with other versions, refit it: " + "; ".join(diffs))
        return payload["matcher"]


def _versions() -> dict[str, str]:
    import jieba
    import scipy
    import sklearn

    return {
        "model": MODEL_VERSION,
        "dictionary": dictionary_version(),
        "scikit-learn": sklearn.__version__,
        "jieba": jieba.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }


def _normalize_rows(matrix) -> sp.csr_matrix:
    matrix = sp.csr_matrix(matrix)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms) @ matrix)


def _top_per_row(matrix: sp.csr_matrix, n: int) -> sp.csr_matrix:
    """Keep the n largest entries of each row."""
    if n <= 0:
        return matrix
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    order = np.lexsort((-matrix.data, rows))
    rows, cols, data = rows[order], matrix.indices[order], matrix.data[order]
    keep = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left") < n
    return sp.csr_matrix((data[keep], (rows[keep], cols[keep])), shape=matrix.shape)


def _other(kind: str) -> str:
    return "achievement" if kind == "need" else "need"


def _subset(side: Side, rows: np.ndarray) -> Side:
    return Side(side.vectors[rows], side.fields[rows], side.orgs[rows], side.order[rows])


def _id_key(value) -> tuple:
    return (isinstance(value, str), value)
