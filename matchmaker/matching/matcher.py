"""The Matcher: fit TF-IDF on achievements and needs together, rank both ways, explain."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from . import feedback, incremental, pairs, persist, prior
from .explain import gram_containment
from .features import listing_tokens
from .fields import field_bits, field_index
from .gc_pause import gc_paused
from .latent import fit_latent, project
from .listing import Listing, Match, MatchConfig
from .pairs import make_match
from .persist import MODEL_VERSION, ModelVersionError
from .ranking import Scoring, Side, TopK
from .search import allowed, merged_pairs, other, search
from .sparse_ops import normalize_rows, top_per_row
from .synonyms import fold, synonym_map
from .tokenizer import dictionary_version, extra_version
from .trust import FieldTrust, fitted_bests

__all__ = ["KINDS", "MODEL_VERSION", "Matcher", "ModelVersionError", "make_match"]
KINDS = ("need", "achievement")
_NO_MASKS = {"need": None, "achievement": None}


class Matcher:
    """Rank achievements for needs and needs for achievements by weighted TF-IDF similarity."""

    def __init__(self, config: MatchConfig | None = None, n_jobs: int = 1):
        self.config = config or MatchConfig()
        self.n_jobs = n_jobs

    @property
    def version(self) -> str:
        """Return the model version tied to the dictionary version (and any extra vocabulary)."""
        cfg = self.config
        extra = extra_version(cfg.extra_terms, cfg.extra_stopwords, cfg.synonyms)
        return f"{MODEL_VERSION}+dict{dictionary_version()}" + (f"+x{extra}" if extra else "")

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, achievements: Sequence[Listing], needs: Sequence[Listing]) -> Matcher:
        """Fit the vocabulary and IDF on both sides and vectorize every listing."""
        with gc_paused():
            return self._fit(achievements, needs)

    def _fit(self, achievements: Sequence[Listing], needs: Sequence[Listing]) -> Matcher:
        cfg = self.config
        self._synonyms = synonym_map(tuple(tuple(g) for g in cfg.synonyms))
        docs = [self._tokens(x) for x in achievements] + [self._tokens(x) for x in needs]
        matrix = self._fit_features(docs)
        n = len(achievements)
        self.achievement_ids_ = [x.id for x in achievements]
        self.need_ids_ = [x.id for x in needs]
        self.listing_fields_ = {
            "achievement": [x.fields for x in achievements],
            "need": [x.fields for x in needs],
        }
        self.fields_ = field_index(x.fields for x in [*achievements, *needs])
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
        self._row_bests = None
        self._owners = gram_containment(self.terms_, self.n_word_features_)
        self.positions_ = {
            "achievement": {x: i for i, x in enumerate(self.achievement_ids_)},
            "need": {x: i for i, x in enumerate(self.need_ids_)},
        }
        return self

    def _fit_features(self, docs: list[list[str]]) -> sp.csr_matrix:
        """Fit the vectorizers and the latent space; return every listing's scored vector."""
        cfg = self.config
        options = dict(
            token_pattern=None,
            lowercase=False,
            sublinear_tf=cfg.sublinear_tf,
            min_df=cfg.min_df,
            max_df=cfg.max_df,
            dtype=np.float32,
        )
        from .vectorize import fit_vectorizers

        (self.word_vectorizer_, words), (self.char_vectorizer_, chars) = fit_vectorizers(
            docs, options, with_chars=cfg.char_weight > 0
        )
        matrix = self._combine(words, chars)
        lengths = np.diff(matrix.indptr)
        self.mean_features_ = float(lengths.mean()) if len(lengths) else 1.0
        matrix = self.pivot(matrix)
        # Word features only: as good a latent space as words + grams, at a third of the cost.
        self.latent_ = fit_latent(matrix[:, : words.shape[1]], cfg)
        self.n_word_features_ = words.shape[1]
        self.terms_ = np.concatenate(
            [
                self.word_vectorizer_.get_feature_names_out(),
                self.char_vectorizer_.get_feature_names_out() if chars is not None else [],
            ]
        ).astype(object)
        return matrix

    def _tokens(self, listing: Listing) -> list[str]:
        tokens = listing.tokens
        if tokens is None:
            tokens = listing_tokens(listing, self.config)
        mapping = getattr(self, "_synonyms", None)
        if mapping is None:
            mapping = self._synonyms = synonym_map(tuple(tuple(g) for g in self.config.synonyms))
        return fold(tokens, mapping)

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
        return normalize_rows(top_per_row(matrix, self.config.doc_features)).astype(np.float32)

    def pivot(self, matrix) -> sp.csr_matrix:
        """Scale unit rows by (features / fitted mean) ** length_pivot (pivoted normalisation).

        Cosine divides a long listing's matches by all its other terms, so a title finds its
        abstract behind shorter, vaguer ones; the pivot gives some of that length back (the
        known-item tasks: csl-title-fieldnoise nDCG@10 .983 vs .980, csl-title .770 vs .768).
        """
        power = self.config.length_pivot
        if power == 0:
            return matrix
        lengths = np.maximum(np.diff(matrix.indptr), 1) / max(self.mean_features_, 1.0)
        return sp.csr_matrix(sp.diags((lengths**power).astype(np.float32)) @ matrix)

    def _latent(self, matrix) -> np.ndarray | None:
        """Unit rows of the matrix in the fitted latent space (None without one)."""
        return project(matrix, getattr(self, "latent_", None))

    def latent_weight(self) -> float:
        """The latent component's share of a pair's score (0 without a latent space)."""
        return 0.0 if getattr(self, "latent_", None) is None else self.config.latent_weight

    def scoring(self, feedback: bool = False) -> Scoring:
        """The pair scoring rule of this configuration (feedback picks without the latent part)."""
        cfg = self.config
        if feedback:
            return Scoring(cfg.feedback_cross_field_factor)
        rule = self.configured_scoring()
        if not rule.relative:
            return rule
        return replace(rule, winner_power=self.field_trust().winner_power(cfg.winner_power))

    def configured_scoring(self) -> Scoring:
        """The scoring rule as configured, before the fitted corpus sets the prior's strength."""
        cfg = self.config
        weight = self.latent_weight()
        return Scoring(cfg.cross_field_factor, cfg.cross_field_power, weight, cfg.winner_power)

    def _side(
        self, matrix, listings: Sequence[Listing], fields: dict | None = None, orgs=None
    ) -> Side:
        ids = [x.id for x in listings]
        orgs = self.orgs_ if orgs is None else orgs
        order = np.empty(len(ids), dtype=np.int64)
        order[sorted(range(len(ids)), key=lambda i: _id_key(ids[i]))] = np.arange(len(ids))
        return Side(
            vectors=matrix.tocsr(),
            latent=self._latent(matrix),
            fields=field_bits([x.fields for x in listings], fields or self.fields_),
            orgs=np.array(
                [orgs.get(x.org, -1 if x.org in (None, "") else len(orgs)) for x in listings],
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
        needs, achievements, scores, need_ranks, ach_ranks = merged_pairs(
            self, self.rank_bulk(top_k, min_score)
        )
        sides = self.sides_
        terms = self._explain(
            sides["need"].vectors, needs, sides["achievement"].vectors, achievements
        )
        return [
            self._pair(n, a, score, nr or None, ar or None, term)
            for n, a, score, nr, ar, term in zip(
                needs.tolist(),
                achievements.tolist(),
                scores.tolist(),
                need_ranks.tolist(),
                ach_ranks.tolist(),
                terms,
                strict=True,
            )
        ]

    def rank_bulk(self, top_k: int = 20, min_score: float | None = None) -> dict[str, TopK]:
        """Return both directions' top-k as arrays, without explanations (the path for large runs).

        ``result["need"].index[i, r]`` is the position in ``achievement_ids_`` of need i's r-th best
        achievement (-1 when none); ``result["achievement"]`` likewise indexes ``need_ids_``.
        """
        return search(self, {"need": top_k, "achievement": top_k}, min_score, _NO_MASKS)

    def _rank_one_way(self, kind, query_ids, k, min_score, candidate_ids, field) -> list[Match]:
        positions = self.positions_[kind]
        if query_ids is None:
            rows, query_mask = np.arange(len(positions)), None
        else:
            rows = np.array([positions[x] for x in query_ids], dtype=np.int64)
            query_mask = np.zeros(len(positions), dtype=bool)
            query_mask[rows] = True
        masks = {kind: query_mask, other(kind): allowed(self, other(kind), candidate_ids, field)}
        top = search(self, {kind: k, other(kind): 0}, min_score, masks)[kind]
        return self._matches(kind, rows, top)

    def row_bests(self, reuse=None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per kind, each listing's best 1 + prior.OUTLIER_RANKS scores before the field prior and
        its best same-field score, on the scored (feedback-expanded) vectors; cached.

        Scored in a full ranking's orientation (search.orient), so that ``reuse`` can hand the
        block products on to the ranking.
        """
        if getattr(self, "_row_bests", None) is None:
            self._row_bests, self._trust = fitted_bests(self, reuse)
        return self._row_bests

    def field_trust(self) -> FieldTrust:
        """How far the fitted texts may overrule declared fields (trust.py); cached."""
        self.row_bests()
        return self._trust

    def row_references(self, reuse=None) -> dict[str, np.ndarray]:
        """Per kind, each listing's reference score for the field prior (prior.py)."""
        bests = self.row_bests(reuse)
        scale = self.field_trust().reference_scale
        return {k: prior.references(t, same, self.config, scale) for k, (t, same) in bests.items()}

    def _matches(self, kind, rows, top: TopK) -> list[Match]:
        return pairs.matches(self, kind, rows, top)

    def _pair(self, need, achievement, *rest) -> Match:
        return pairs.fitted_match(self, need, achievement, *rest)

    def _scoring_side(self, kind: str) -> Side:
        """The side as scored: the feedback side's vectors are expanded once, on first use."""
        side = self.sides_[kind]
        if kind != self.feedback_kind_ or not self._feedback_on():
            return side
        if getattr(self, "_expanded", None) is None:
            self._expanded, self._feedback_top = self._expand(side, self.sides_[other(kind)])
        return self._expanded

    def _feedback_on(self) -> bool:
        return self.config.feedback_docs > 0 and self.config.feedback_weight > 0

    def _expand(self, queries: Side, candidates: Side) -> tuple[Side, TopK]:
        return feedback.expand(self, queries, candidates)

    # -- incremental -----------------------------------------------------------------------
    def match_listing(
        self,
        listing: Listing,
        kind: str,
        top_k: int = 10,
        min_score: float | None = None,
        extra_candidates: Sequence[Listing] = (),
    ) -> list[Match]:
        """Rank the other side for one new or edited listing without refitting.

        Candidates are every fitted listing of the other side plus ``extra_candidates`` (listings
        of the other side published since the fit; a fitted id among them replaces the fitted
        version). All are vectorized with the fitted vocabulary and scored with the same field
        prior and feedback as a full run, so scores match a refit on the same data.
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be 'need' or 'achievement', not {kind!r}")
        return incremental.match_listing(self, listing, kind, top_k, min_score, extra_candidates)

    # -- explanation -----------------------------------------------------------------------
    def _explain(self, left, left_rows, right, right_rows) -> list[list[tuple[str, float]]]:
        """Return per pair the top terms with their share of the (unboosted) cosine."""
        return pairs.explain_rows(self, left, left_rows, right, right_rows)

    def __getstate__(self) -> dict:
        # The gram-ownership table is derived from terms_; it is rebuilt on first use after load.
        state = self.__dict__.copy()
        state.pop("_owners", None)
        return state

    def _gram_owners(self):
        """Which word features contain each character feature (words x grams), built once."""
        if getattr(self, "_owners", None) is None:
            self._owners = gram_containment(self.terms_, self.n_word_features_)
        return self._owners

    # -- persistence -----------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Save the fitted matcher with its model, dictionary and library versions."""
        # Expand the feedback side now, so processes loading the model never pay for it per query.
        self._scoring_side(self.feedback_kind_)
        if self.configured_scoring().relative:
            self.row_bests()
        persist.save(self, path)

    @classmethod
    def load(cls, path: str | Path) -> Matcher:
        """Load a saved matcher, refusing one built by other versions."""
        return persist.load(path)


def _id_key(value) -> tuple:
    return (isinstance(value, str), value)
