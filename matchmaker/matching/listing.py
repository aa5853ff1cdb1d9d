"""Plain data the engine takes and returns."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Listing:
    """An achievement or a need, as plain text; tokens may carry a cached listing_tokens result."""

    id: str | int
    title: str = ""
    description: str = ""
    keywords: tuple[str, ...] = ()
    field: str | None = None
    org: str | int | None = None
    tokens: tuple[str, ...] | list[str] | None = None


@dataclass(frozen=True)
class MatchConfig:
    """How listings are weighted, vectorized and ranked."""

    title_weight: int = 3
    keyword_weight: int = 2
    description_weight: int = 1
    char_weight: float = 0.5
    sublinear_tf: bool = True
    min_df: int = 1
    max_df: float = 1.0
    cross_field_factor: float = 0.0
    feedback_docs: int = 3
    feedback_weight: float = 1.0
    feedback_terms: int = 0
    min_score: float = 0.01
    doc_features: int = 0
    explain_terms: int = 5
    chunk_cells: int = 4_000_000
    # Staff-maintained vocabulary on top of the shipped files; part of the model version.
    extra_terms: tuple[str, ...] = ()
    extra_stopwords: tuple[str, ...] = ()

    @classmethod
    def bulk(cls) -> MatchConfig:
        """The configuration for national-scale batch runs (millions of listings, no explanations).

        Differs from the platform's defaults only where the product's cost grows with density:
        word features only (no character bigrams), feedback adds at most 20 terms, and each listing
        keeps its 30 heaviest features. Quality at fair scale drops by about 0.02-0.03 nDCG@10.
        """
        return cls(char_weight=0.0, feedback_terms=20, doc_features=30, chunk_cells=8_000_000)


@dataclass
class Match:
    """One suggested (need, achievement) pair with its score and explanation."""

    need_id: str | int
    achievement_id: str | int
    score: float
    need_rank: int | None = None
    achievement_rank: int | None = None
    terms: list[tuple[str, float]] = field(default_factory=list)
    same_field: bool = False
