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
from matchmaker.models.fairs import Contract, Fair, Meeting
from matchmaker.models.listings import Achievement, ListingEvent, Need
from matchmaker.models.matching import MatchChunk, MatchRun, PairEvent, Suggestion

__all__ = [
    "Achievement",
    "ApiToken",
    "Base",
    "Contract",
    "Fair",
    "Field",
    "ListingEvent",
    "LoginAttempt",
    "MatchChunk",
    "MatchRun",
    "Meeting",
    "Need",
    "Notification",
    "Organization",
    "OutboxEmail",
    "PairEvent",
    "Suggestion",
    "User",
    "utcnow",
]
