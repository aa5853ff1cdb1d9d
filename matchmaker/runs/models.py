"""Match runs and their chunks, the vocabulary, synonym groups and stored model files."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from matchmaker.core.db import Base, in_list, utcnow

RUN_KINDS = ("full", "incremental", "rebuild")
RUN_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
RUN_ACTIVE = ("queued", "running")
CHUNK_STATUSES = ("pending", "running", "done", "failed")


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


class StoredModel(Base):
    """A fitted model file kept in the database, so a worker on any machine can load it."""

    __tablename__ = "stored_models"

    version: Mapped[str] = mapped_column(String(120), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    parts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoredModelPart(Base):
    """One slice of a stored model file (bytea on PostgreSQL, a BLOB on SQLite)."""

    __tablename__ = "stored_model_parts"

    version: Mapped[str] = mapped_column(
        ForeignKey("stored_models.version", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
