"""The Matcher: fit TF-IDF on achievements and needs together, rank both ways, explain."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .explain import explain_products, gram_containment
from .features import listing_tokens
from .gc_pause import gc_paused
from .listing import Listing, Match, MatchConfig
from .ranking import Side, TopK, top_k_both
from .tokenizer import dictionary_version, extra_version
from .vectorize import fit_vectorizers

MODEL_VERSION = "2"
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
        """Return the model version tied to the dictionary version (and any extra vocabulary)."""
        extra = extra_version(self.config.extra_terms, self.config.extra_stopwords)
        return f"{MODEL_VERSION}+dict{dictionary_version()}" + (f"+x{extra}" if extra else "")

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, achievements: Sequence[Listing], needs: Sequence[Listing]) -> Matcher:
        """Fit the vocabulary and IDF on both sides and vectorize every listing."""
        with gc_paused():
            return self._fit(achievements, needs)

    def _fit(self, achievements: Sequence[Listing], needs: Sequence[Listing]) -> Matcher:
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
        (self.word_vectorizer_, words), (self.char_vectorizer_, chars) = fit_vectorizers(
            docs, options, with_chars=cfg.char_weight > 0
        )
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
        self.fields_ = {
            f: i
            for i, f in enumerate(sorted({x.field for x in [*achievements, *needs]} - {None, ""}))
        }
        orgs = {x.org for x in [*achievements, *needs]} - {None, ""}
        self.orgs_ = {o: i for i, o in enumerate(sorted(orgs, key=_id_key))}
        self.sides_ = {
            "achievement": self._side(matrix[:n], achievements),
            "need": self._side(matrix[n:], needs),
        }
        lengths = {
            kind: np.mean([len(d) for d in part]) if part else 0.0
            for kind, part in (("achievement", docs[:n]), ("need", docs[n:]))
        }
        # Feedback expands the side with the shorter texts (needs, usually); both directions then
        # share one score per pair.
        self.feedback_kind_ = "need" if lengths["need"] <= lengths["achievement"] else "achievement"
        self._expanded = None
        self._owners = gram_containment(self.terms_, self.n_word_features_)
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
            return self._cap(words.tocsr())
        matrix = sp.hstack([words * math.sqrt(1 - weight), chars * math.sqrt(weight)], format="csr")
        return self._cap(matrix)

    def _cap(self, matrix) -> sp.csr_matrix:
        """Keep each listing's heaviest features only (config.doc_features; 0 keeps all)."""
        if self.config.doc_features <= 0:
            return matrix
        return _normalize_rows(_top_per_row(matrix, self.config.doc_features)).astype(np.float32)

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
            fields=np.array(
                [
                    self.fields_.get(x.field, -1 if not x.field else len(self.fields_))
                    for x in listings
                ],
                dtype=np.int64,
            ),
            orgs=np.array(
                [
                    self.orgs_.get(x.org, -1 if x.org in (None, "") else len(self.orgs_))
                    for x in listings
                ],
                dtype=np.int64,
            ),
            order=order,
        )

    # -- ranking ---------------------------------------------------------------------------
    def rank_needs(
        self,
        need_ids: Iterable | None = None,
        top_k: int = 10,
        min_score: float | None = None,
        achievement_ids: Iterable | None = None,
        field: str | None = None,
    ) -> list[Match]:
        """Return, for each need (or the given subset), its top-k achievements best first."""
        return self._rank_one_way("need", need_ids, top_k, min_score, achievement_ids, field)

    def rank_achievements(
        self,
        achievement_ids: Iterable | None = None,
        top_k: int = 10,
        min_score: float | None = None,
        need_ids: Iterable | None = None,
        field: str | None = None,
    ) -> list[Match]:
        """Return, for each achievement (or the given subset), its top-k needs best first."""
        return self._rank_one_way("achievement", achievement_ids, top_k, min_score, need_ids, field)

    def rank(self, top_k: int = 10, min_score: float | None = None) -> list[Match]:
        """Rank both ways in one pass and merge per pair, keeping each side's rank (or None)."""
        tops = self.rank_bulk(top_k, min_score)
        n_achievements = len(self.achievement_ids_)
        need_rows, need_ranks = np.nonzero(tops["need"].index >= 0)
        ach_rows, ach_ranks = np.nonzero(tops["achievement"].index >= 0)
        need_codes = need_rows * n_achievements + tops["need"].index[need_rows, need_ranks]
        ach_codes = tops["achievement"].index[ach_rows, ach_ranks] * n_achievements + ach_rows
        codes = np.union1d(need_codes, ach_codes)
        scores = np.zeros(len(codes), dtype=np.float64)
        ranks = {}
        for kind, own, rows, place in (
            ("need", need_codes, need_rows, need_ranks),
            ("achievement", ach_codes, ach_rows, ach_ranks),
        ):
            at = np.searchsorted(codes, own)
            scores[at] = tops[kind].score[rows, place]
            ranks[kind] = np.zeros(len(codes), dtype=np.int64)
            ranks[kind][at] = place + 1
        needs, achievements = codes // n_achievements, codes % n_achievements
        sides = self.sides_
        order = np.lexsort(
            (sides["achievement"].order[achievements], -scores, sides["need"].order[needs])
        )
        needs, achievements, scores = (
            needs[order],
            achievements[order],
            np.minimum(scores[order], 1.0),
        )
        need_rank, ach_rank = ranks["need"][order], ranks["achievement"][order]
        terms = self._explain(
            sides["need"].vectors, needs, sides["achievement"].vectors, achievements
        )
        same = _same_field(sides["need"].fields[needs], sides["achievement"].fields[achievements])
        need_ids, ach_ids = self.need_ids_, self.achievement_ids_
        return [
            Match(need_ids[n], ach_ids[a], score, nr or None, ar or None, term, same_field)
            for n, a, score, nr, ar, term, same_field in zip(
                needs.tolist(),
                achievements.tolist(),
                scores.tolist(),
                need_rank.tolist(),
                ach_rank.tolist(),
                terms,
                same.tolist(),
                strict=True,
            )
        ]

    def rank_bulk(self, top_k: int = 20, min_score: float | None = None) -> dict[str, TopK]:
        """Return both directions' top-k as arrays, without explanations (the path for large runs).

        ``result["need"].index[i, r]`` is the position in ``achievement_ids_`` of need i's r-th best
        achievement (-1 when none); ``result["achievement"]`` likewise indexes ``need_ids_``.
        """
        return self._search(top_k, top_k, min_score)

    def _rank_one_way(self, kind, query_ids, k, min_score, candidate_ids, field) -> list[Match]:
        other = _other(kind)
        query_mask = None
        positions = self.positions_[kind]
        if query_ids is not None:
            query_ids = list(query_ids)
            query_mask = np.zeros(len(positions), dtype=bool)
            query_mask[[positions[x] for x in query_ids]] = True
        masks = {kind: query_mask, other: self._allowed(other, candidate_ids, field)}
        ks = {kind: k, other: 0}
        top = self._search(
            ks["need"], ks["achievement"], min_score, masks["need"], masks["achievement"]
        )[kind]
        rows = (
            np.arange(len(positions))
            if query_ids is None
            else np.array([positions[x] for x in query_ids], dtype=np.int64)
        )
        return self._matches(kind, self.sides_[kind], self._ids(kind), rows, top)

    def _search(
        self, k_need, k_achievement, min_score, need_mask=None, achievement_mask=None
    ) -> dict:
        """One pass over the product: the larger (or the masked) side is chunked by rows."""
        cfg = self.config
        threshold = cfg.min_score if min_score is None else min_score
        needs, achievements = self._scoring_side("need"), self._scoring_side("achievement")
        k, masks = (
            {"need": k_need, "achievement": k_achievement},
            {"need": need_mask, "achievement": achievement_mask},
        )
        sides = {"need": needs, "achievement": achievements}
        if (need_mask is None) != (achievement_mask is None):
            # A subset against a whole side: chunk the subset, so the whole side's field groups
            # are transposed once per fitted model (Side.transposed) rather than once per query.
            rows = "need" if need_mask is not None else "achievement"
        else:
            rows = (
                "achievement" if achievements.vectors.shape[0] >= needs.vectors.shape[0] else "need"
            )
        cols = _other(rows)
        row_top, col_top = top_k_both(
            sides[rows],
            sides[cols],
            k[rows],
            k[cols],
            threshold,
            cfg.cross_field_factor,
            masks[rows],
            masks[cols],
            cfg.chunk_cells,
            self.n_jobs,
        )
        return {rows: row_top, cols: col_top}

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

    def _matches(self, kind, queries: Side, query_ids, rows, top: TopK) -> list[Match]:
        """Turn the top-k arrays of the given query rows into explained matches, best first."""
        other = _other(kind)
        index, scores = top.index[rows], top.score[rows]
        q, rank = np.nonzero(index >= 0)
        c, s = index[q, rank], scores[q, rank]
        q_rows = rows[q]
        candidates = self.sides_[other]
        terms = self._explain(queries.vectors, q_rows, candidates.vectors, c)
        same = _same_field(queries.fields[q_rows], candidates.fields[c])
        other_ids = self._ids(other)
        matches = []
        for i in range(len(q)):
            own, theirs, place = query_ids[q_rows[i]], other_ids[c[i]], int(rank[i]) + 1
            score = min(float(s[i]), 1.0)
            if kind == "need":
                matches.append(Match(own, theirs, score, place, None, terms[i], bool(same[i])))
            else:
                matches.append(Match(theirs, own, score, None, place, terms[i], bool(same[i])))
        return matches

    def _scoring_side(self, kind: str) -> Side:
        """The side as scored: the feedback side's vectors are expanded once, on first use."""
        side = self.sides_[kind]
        if (
            kind != self.feedback_kind_
            or self.config.feedback_docs <= 0
            or self.config.feedback_weight <= 0
        ):
            return side
        if getattr(self, "_expanded", None) is None:
            self._expanded = self._expand(side, self.sides_[_other(kind)])
        return self._expanded

    def _expand(self, queries: Side, candidates: Side) -> Side:
        """Pseudo-relevance feedback: add the query's best candidates' vectors to the query."""
        cfg = self.config
        top, _ = top_k_both(
            queries,
            candidates,
            cfg.feedback_docs,
            0,
            cfg.min_score,
            cfg.cross_field_factor,
            chunk_cells=cfg.chunk_cells,
            n_jobs=self.n_jobs,
        )
        n = queries.vectors.shape[0]
        rows, ranks = np.nonzero(top.index >= 0)
        feedback = sp.csr_matrix(
            (top.score[rows, ranks].astype(np.float32), (rows, top.index[rows, ranks])),
            shape=(n, candidates.vectors.shape[0]),
        )
        centroid = _normalize_rows(
            _top_per_row(sp.csr_matrix(feedback @ candidates.vectors), cfg.feedback_terms)
        )
        expanded = _normalize_rows(queries.vectors + cfg.feedback_weight * centroid).astype(
            np.float32
        )
        return Side(expanded.tocsr(), queries.fields, queries.orgs, queries.order)

    def _ids(self, kind):
        return self.need_ids_ if kind == "need" else self.achievement_ids_

    # -- incremental -----------------------------------------------------------------------
    def match_listing(
        self, listing: Listing, kind: str, top_k: int = 10, min_score: float | None = None
    ) -> list[Match]:
        """Rank the other side for one new or edited listing without refitting."""
        if kind not in KINDS:
            raise ValueError(f"kind must be 'need' or 'achievement', not {kind!r}")
        cfg = self.config
        other = _other(kind)
        query = self._side(self._vectorize([listing]), [listing])
        scoring = query
        if kind == self.feedback_kind_ and cfg.feedback_docs > 0 and cfg.feedback_weight > 0:
            scoring = self._expand(query, self.sides_[other])
        threshold = cfg.min_score if min_score is None else min_score
        top, _ = top_k_both(
            scoring,
            self._scoring_side(other),
            top_k,
            0,
            threshold,
            cfg.cross_field_factor,
            chunk_cells=cfg.chunk_cells,
            n_jobs=self.n_jobs,
        )
        return self._matches(kind, query, [listing.id], np.arange(1), top)

    # -- explanation -----------------------------------------------------------------------
    def _explain(
        self, left: sp.csr_matrix, left_rows, right: sp.csr_matrix, right_rows
    ) -> list[list[tuple[str, float]]]:
        """Return per pair the top terms with their share of the (unboosted) cosine."""
        if len(left_rows) == 0:
            return []
        products = left[left_rows].multiply(right[right_rows]).tocsr()
        return explain_products(
            products,
            self.n_word_features_,
            self.terms_,
            self._gram_owners(),
            self.config.explain_terms,
        )

    def __getstate__(self) -> dict:
        # The gram-ownership table is derived from terms_; it is rebuilt on first use after load.
        state = self.__dict__.copy()
        state.pop("_owners", None)
        return state

    def _gram_owners(self) -> sp.csr_matrix:
        """Which word features contain each character feature (words x grams), built once."""
        if getattr(self, "_owners", None) is None:
            self._owners = gram_containment(self.terms_, self.n_word_features_)
        return self._owners

    # -- persistence -----------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Save the fitted matcher with its model, dictionary and library versions."""
        import joblib

        # Expand the feedback side now, so processes loading the model never pay for it per query.
        self._scoring_side(self.feedback_kind_)
        joblib.dump({"versions": _versions(), "matcher": self}, path)

    @classmethod
    def load(cls, path: str | Path) -> Matcher:
        """Load a saved matcher, refusing one built by other versions."""
        import joblib

        payload = joblib.load(path)
        if not isinstance(payload, dict) or "versions" not in payload:
            raise ModelVersionError(f"{path}: not a matchmaker model file")
        saved, current = payload["versions"], _versions()
        diffs = [
            f"{key} {saved.get(key)} (saved) != {current[key]} (running)"
            for key in current
            if saved.get(key) != current[key]
        ]
        if diffs:
            raise ModelVersionError(
                f"{path}: model was built with other versions, refit it: " + "; ".join(diffs)
            )
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


def _top_per_row(matrix, n: int, chunk_cells: int = 8_000_000) -> sp.csr_matrix:
    """Keep the n largest entries of each row (entries tied with the n-th stay)."""
    matrix = sp.csr_matrix(matrix)
    counts = np.diff(matrix.indptr)
    if n <= 0 or counts.max(initial=0) <= n:
        return matrix
    keep = np.ones(matrix.nnz, dtype=bool)
    heavy = np.flatnonzero(counts > n)
    step = max(1, chunk_cells // int(counts.max()))
    for start in range(0, len(heavy), step):
        rows = heavy[start : start + step]
        sizes = counts[rows]
        segment = np.repeat(np.arange(len(rows)), sizes)
        position = np.arange(len(segment)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        elements = np.repeat(matrix.indptr[rows], sizes) + position
        padded = np.full((len(rows), int(sizes.max())), -np.inf, dtype=np.float64)
        padded[segment, position] = matrix.data[elements]
        width = padded.shape[1]
        kth = np.partition(padded, width - n, axis=1)[:, width - n]
        keep[elements] = matrix.data[elements] >= kth[segment]
    row_of = np.repeat(np.arange(matrix.shape[0]), counts)
    indptr = np.zeros(matrix.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of[keep], minlength=matrix.shape[0]), out=indptr[1:])
    return sp.csr_matrix((matrix.data[keep], matrix.indices[keep], indptr), shape=matrix.shape)


def _pairs(top: TopK):
    """Flatten a TopK into (row, partner, score, rank) lists, ranks starting at 1."""
    rows, ranks = np.nonzero(top.index >= 0)
    scores = np.minimum(top.score[rows, ranks].astype(np.float64), 1.0)
    return rows.tolist(), top.index[rows, ranks].tolist(), scores.tolist(), (ranks + 1).tolist()


def _same_field(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return (left == right) & (left >= 0)


def _other(kind: str) -> str:
    return "achievement" if kind == "need" else "need"


def _subset(side: Side, rows: np.ndarray) -> Side:
    return Side(side.vectors[rows], side.fields[rows], side.orgs[rows], side.order[rows])


def _id_key(value) -> tuple:
    return (isinstance(value, str), value)
