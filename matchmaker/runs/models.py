"""Match runs and the suggestions they produce; a suggestion is also the pair brokers work."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matchmaker.accounts.models import User
from matchmaker.core.db import Base, in_list, utcnow
from matchmaker.listings.models import Achievement, Need

RUN_KINDS = ("full", "incremental", "rebuild")
RUN_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
RUN_ACTIVE = ("queued", "running")
CHUNK_STATUSES = ("pending", "running", "done", "failed")
PAIR_STATES = (
    "suggested",
    "recommended",
    "accepted",
    "declined",
    "meeting_scheduled",
    "met",
    "intention",
    "contract",
    "dismissed",
    "closed",
)
SIDE_ANSWERS = ("interested", "declined")
# States in which both sides have said they are interested.
ENGAGED_STATES = ("accepted", "meeting_scheduled", "met", "intention", "contract")
# What a pair event records: a move of the state machine, or work on the pair that keeps its state.
EVENT_KINDS = ("transition", "answer", "note", "claim", "unclaim", "snooze", "reassign", "propose")
PAIR_SOURCES = ("matcher", "broker")


class MatchRun(Base):
    __tablename__ = "match_runs"
    __table_args__ = (
        CheckConstraint(in_list("kind", RUN_KINDS), name="kind"),
        CheckConstraint(in_list("status", RUN_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="full")
    status: Mapped[str] = mapped_column(String(20), default="queued")
    model_version: Mapped[str] = mapped_column(String(80), default="")
    needs: Mapped[int] = mapped_column(default=0)
    achievements: Mapped[int] = mapped_column(default=0)
    suggestions: Mapped[int] = mapped_column(default=0)
    chunks_total: Mapped[int] = mapped_column(default=0)
    chunks_done: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Written only by the process doing the run's work; the reconciler notes its own re-queues
    # in requeued_at, so a dead worker's run never looks alive.
    heartbeat_at: Mapped[datetime | None]
    requeued_at: Mapped[datetime | None]
    # "rematch" while a full or rebuild run is queued or running, NULL otherwise: the unique
    # constraint is what keeps two full runs from ever writing at the same time.
    exclusive_slot: Mapped[str | None] = mapped_column(String(20), unique=True)

    @property
    def progress(self) -> float:
        if self.status == "succeeded":
            return 1.0
        return self.chunks_done / self.chunks_total if self.chunks_total else 0.0


VOCABULARY_KINDS = ("term", "stopword")


class VocabularyEntry(Base):
    """A domain term or stop word that staff added on top of the engine's shipped files."""

    __tablename__ = "vocabulary_entries"
    __table_args__ = (
        UniqueConstraint("kind", "word"),
        CheckConstraint(in_list("kind", VOCABULARY_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    word: Mapped[str] = mapped_column(String(40))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SynonymGroup(Base):
    """Words staff declare to mean the same (探伤 = 无损检测), beside the engine's starter list."""

    __tablename__ = "synonym_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The normalized words joined by "=", in the order staff wrote them; unique as a set.
    words: Mapped[str] = mapped_column(String(400), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def members(self) -> list[str]:
        return self.words.split("=")


class MatchChunk(Base):
    """One slice of a run's work; its status is how the run knows the fan-out finished."""

    __tablename__ = "match_chunks"
    __table_args__ = (
        UniqueConstraint("run_id", "direction", "position"),
        CheckConstraint(in_list("direction", ("need", "achievement")), name="direction"),
        CheckConstraint(in_list("status", CHUNK_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("match_runs.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(12))
    position: Mapped[int]
    listing_ids: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Suggestion(Base):
    """One need–achievement pair: the matcher's score and the pair's life with the brokers."""

    __tablename__ = "suggestions"
    __table_args__ = (
        UniqueConstraint("need_id", "achievement_id"),
        CheckConstraint(in_list("state", PAIR_STATES), name="state"),
        CheckConstraint(in_list("source", PAIR_SOURCES), name="source"),
        CheckConstraint(
            "need_answer IS NULL OR " + in_list("need_answer", SIDE_ANSWERS), name="need_answer"
        ),
        CheckConstraint(
            "achievement_answer IS NULL OR " + in_list("achievement_answer", SIDE_ANSWERS),
            name="achievement_answer",
        ),
        CheckConstraint("score >= 0", name="score"),
        CheckConstraint(
            "state NOT IN ('accepted', 'meeting_scheduled', 'met', 'intention', 'contract') OR "
            "(COALESCE(need_answer, '') = 'interested' "
            "AND COALESCE(achievement_answer, '') = 'interested')",
            name="engaged_answers",
        ),
        CheckConstraint(
            "state <> 'declined' OR COALESCE(need_answer, '') = 'declined' "
            "OR COALESCE(achievement_answer, '') = 'declined'",
            name="declined_answer",
        ),
        Index("ix_suggestions_state_score", "state", "score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Looked up through the unique (need_id, achievement_id) index; no index of its own.
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"))
    achievement_id: Mapped[int] = mapped_column(
        ForeignKey("achievements.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float] = mapped_column(Float, default=0.0)
    need_rank: Mapped[int | None]
    achievement_rank: Mapped[int | None]
    terms: Mapped[list] = mapped_column(JSON, default=list)
    same_field: Mapped[bool] = mapped_column(Boolean, default=False)
    # Both sides declare fields and share none: suggested on the strength of the text (跨领域).
    cross_field: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    model_version: Mapped[str] = mapped_column(String(80), default="")
    # The run that last wrote the pair. No foreign key: runs are never deleted, and its check
    # locked the run row once per pair written, in every chunk of a run at once.
    run_id: Mapped[int | None]
    # False once a rerun no longer ranks an untouched pair; worked pairs are never retired.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(12), default="matcher")

    state: Mapped[str] = mapped_column(String(20), default="suggested")
    need_answer: Mapped[str | None] = mapped_column(String(12))
    achievement_answer: Mapped[str | None] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(40), default="")
    broker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    snoozed_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Optimistic lock: two brokers saving the same pair cannot both win.
    lock_version: Mapped[int] = mapped_column(default=1)

    need: Mapped[Need] = relationship()
    achievement: Mapped[Achievement] = relationship()
    broker: Mapped[User | None] = relationship(foreign_keys=[broker_id])
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])
    events: Mapped[list["PairEvent"]] = relationship(
        back_populates="suggestion", order_by="PairEvent.id"
    )

    __mapper_args__ = {"version_id_col": lock_version}


class PairEvent(Base):
    """Audit trail: every change of a pair's state, never rewritten."""

    __tablename__ = "pair_events"
    __table_args__ = (
        CheckConstraint(in_list("kind", EVENT_KINDS), name="kind"),
        CheckConstraint(in_list("to_state", PAIR_STATES), name="to_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(
        ForeignKey("suggestions.id", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(12), default="transition", server_default="transition")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    side: Mapped[str | None] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(40), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)

    suggestion: Mapped[Suggestion] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
