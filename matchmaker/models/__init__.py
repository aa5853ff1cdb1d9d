"""The data model; importing this package registers every table on Base.metadata."""

from matchmaker.models.accounts import (
    ApiToken,
    Field,
    LoginAttempt,
    Notification,
    Organization,
    OutboxEmail,
    User,
)
from matchmaker.models.base import Base, utcnow
from matchmaker.models.fairs import (
    Contract,
    Fair,
    FairParticipant,
    FairRegistration,
    Meeting,
    MustMeet,
)
from matchmaker.models.forms import FormToken
from matchmaker.models.listings import Achievement, ListingEvent, Need
from matchmaker.models.matching import (
    MatchChunk,
    MatchRun,
    PairEvent,
    Suggestion,
    VocabularyEntry,
)

__all__ = [
    "Achievement",
    "ApiToken",
    "Base",
    "Contract",
    "Fair",
    "FairParticipant",
    "FairRegistration",
    "FormToken",
    "Field",
    "ListingEvent",
    "LoginAttempt",
    "MatchChunk",
    "MatchRun",
    "Meeting",
    "MustMeet",
    "Need",
    "Notification",
    "Organization",
    "OutboxEmail",
    "PairEvent",
    "Suggestion",
    "User",
    "VocabularyEntry",
    "utcnow",
]
