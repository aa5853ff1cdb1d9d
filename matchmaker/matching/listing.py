"""Plain data the engine takes and returns."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as _field


@dataclass(frozen=True)
class Listing:
    """An achievement or a need, as plain text; tokens may carry a cached listing_tokens result.

    ``fields`` are the declared fields in the poster's order (the first is the primary one).
    ``field`` is kept for callers that know one field: given alone it becomes ``fields=(field,)``;
    when ``fields`` is given it wins and ``field`` is set to its first entry.
    """

    id: str | int
    title: str = ""
    description: str = ""
    keywords: tuple[str, ...] = ()
    field: str | None = None
    org: str | int | None = None
    tokens: tuple[str, ...] | list[str] | None = None
    fields: tuple[str, ...] = ()

    def __post_init__(self):
        fields = self.fields
        if isinstance(fields, str):
            fields = (fields,)
        fields = tuple(dict.fromkeys(f for f in fields or () if f))
        if not fields and self.field:
            fields = (self.field,)
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "field", fields[0] if fields else None)


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
    # Pivoted length normalisation: each listing's unit vector is scaled by
    # (its features / the fitted listings' mean) ** length_pivot, so a long text is not
    # penalised for the breadth that cosine normalisation divides its matches by.
    length_pivot: float = 0.15
    # The field prior (prior.py): a pair whose listings both declare fields but share none scores
    # cross_field_factor * score ** cross_field_power (0 would hide such pairs: a wall), but at
    # least score * min(1, score / reference) ** power, with power = winner_power times the
    # fitted corpus's trust odds (trust.py: the odds against a listing having a mutual clear
    # winner, over how much likelier such winners cross fields than random pairs) and a
    # listing's reference its winner level (its best score before the prior, raised to its
    # runners-up's mean + outlier_sd standard deviations when higher; clear_factor times its
    # best same-field score when lower), divided by the share of mutual clear winners.
    cross_field_factor: float = 1.0
    cross_field_power: float = 10.0
    winner_power: float = 1.0
    clear_factor: float = 2.0
    # A listing's best score counts as its winner level only when it stands outlier_sd standard
    # deviations above the mean of its next OUTLIER_RANKS scores (prior.level); else that level.
    outlier_sd: float = 3.0
    # Feedback picks its documents with a milder prior (cross-field cosine x this factor):
    # a need filed under the wrong field still draws its feedback from its real partners.
    feedback_cross_field_factor: float = 0.5
    # A latent-semantic (TruncatedSVD) component blended into the score; 0 components: none.
    # Components are weighted by (singular value / the first) ** latent_emphasis (latent.py).
    latent_components: int = 100
    latent_weight: float = 0.3
    latent_emphasis: float = 2.0
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
    # Groups of equivalent terms (探伤, 无损检测) on top of data/synonyms.txt.
    synonyms: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def bulk(cls) -> MatchConfig:
        """The configuration for national-scale batch runs (millions of listings, no explanations).

        Differs from the platform's defaults only where the product's cost grows with density:
        word features only (no character bigrams), feedback adds at most 20 terms, each listing
        keeps its 30 heaviest features, no latent component (it makes every pair a candidate),
        and declared fields are a wall again (the product splits per field; a prior would
        score every cross-field pair too, five times the work with five fields).
        Quality at fair scale drops by about 0.02-0.03 nDCG@10. No length normalisation: the
        bulk path stays as benchmarked at 1M x 100k.
        """
        return cls(
            char_weight=0.0,
            length_pivot=0.0,
            feedback_terms=20,
            doc_features=30,
            chunk_cells=8_000_000,
            latent_components=0,
            latent_weight=0.0,
            cross_field_factor=0.0,
            feedback_cross_field_factor=0.0,
            winner_power=0.0,
        )


@dataclass
class Match:
    """One suggested (need, achievement) pair with its score and explanation.

    ``shared_fields`` are the fields both listings declare, in the need's order; ``cross_field``
    is True when both declare fields but share none (跨领域: suggested for its text alone).
    """

    need_id: str | int
    achievement_id: str | int
    score: float
    need_rank: int | None = None
    achievement_rank: int | None = None
    terms: list[tuple[str, float]] = _field(default_factory=list)
    same_field: bool = False
    shared_fields: tuple[str, ...] = ()
    cross_field: bool = False
