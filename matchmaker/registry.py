"""The data model; importing this package registers every table on Base.metadata."""

from matchmaker.accounts.models import ApiToken, Field, Organization, User
from matchmaker.core.db import Base, utcnow
from matchmaker.core.models import FormToken
from matchmaker.fairs.models import Fair, FairParticipant, FairRegistration, MustMeet
from matchmaker.listings.models import Achievement, ListingEvent, Need
from matchmaker.notifications.models import Digest, Notification, OutboxEmail
from matchmaker.pairs.models import Contract, Meeting, PairEvent, Suggestion
from matchmaker.runs.models import (
    MatchChunk,
    MatchRun,
    StoredModel,
    StoredModelPart,
    SynonymGroup,
    VocabularyEntry,
)

__all__ = [
    "Achievement",
    "ApiToken",
    "Base",
    "Contract",
    "Digest",
    "Fair",
    "FairParticipant",
    "FairRegistration",
    "FormToken",
    "Field",
    "ListingEvent",
    "MatchChunk",
    "MatchRun",
    "Meeting",
    "MustMeet",
    "Need",
    "Notification",
    "Organization",
    "OutboxEmail",
    "PairEvent",
    "StoredModel",
    "StoredModelPart",
    "Suggestion",
    "SynonymGroup",
    "User",
    "VocabularyEntry",
    "utcnow",
]

# Domain packages keep their own models; importing them here registers their tables too.
from matchmaker.challenges import models as _challenges  # noqa: E402,F401
