"""Pairs: the suggestions brokers work, their history, meetings and the contracts they end in."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matchmaker.accounts.models import User
from matchmaker.core.db import Base, in_list, not_in_list, utcnow
from matchmaker.listings.models import Achievement, Need

# PAIR_STATES stays importable from here: the API and its schemas check a target state with it.
from matchmaker.pairs.states import ENGAGED_STATES, PAIR_STATES, PairState

SIDE_ANSWERS = ("interested", "declined")
# What a pair event records: a move of the state machine, or work on the pair that keeps its state.
EVENT_KINDS = ("transition", "answer", "note", "claim", "unclaim", "snooze", "reassign", "propose")
PAIR_SOURCES = ("matcher", "broker")
MEETING_STATUSES = ("planned", "confirmed", "held", "no_show", "cancelled")
# National technology-contract categories.
CONTRACT_TYPES = ("技术开发", "技术转让", "技术许可", "技术咨询", "技术服务")


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
            not_in_list("state", ENGAGED_STATES) + " OR "
            "(COALESCE(need_answer, '') = 'interested' "
            "AND COALESCE(achievement_answer, '') = 'interested')",
            name="engaged_answers",
        ),
        CheckConstraint(
            f"state <> '{PairState.DECLINED}' OR COALESCE(need_answer, '') = 'declined' "
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

    state: Mapped[str] = mapped_column(String(20), default=PairState.SUGGESTED)
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


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint(in_list("status", MEETING_STATUSES), name="status"),
        UniqueConstraint("fair_id", "suggestion_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fair_id: Mapped[int | None] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"))
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), index=True)
    slot: Mapped[int | None]
    table_no: Mapped[int | None]
    starts_at: Mapped[datetime | None]
    place: Mapped[str] = mapped_column(String(200), default="")
    online_url: Mapped[str] = mapped_column(String(300), default="", server_default="")
    status: Mapped[str] = mapped_column(String(20), default="planned")
    note: Mapped[str] = mapped_column(Text, default="")
    # Why the meeting was moved or called off, kept for both sides to read.
    change_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Bumped on every reschedule, so calendar clients replace the event (.ics SEQUENCE).
    sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who recorded the outcome (held / no-show) after the fair, and when.
    outcome_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome_at: Mapped[datetime | None]

    suggestion: Mapped[Suggestion] = relationship()
    fair: Mapped["Fair | None"] = relationship()  # noqa: F821  (fairs builds on pairs)


class Contract(Base):
    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint(in_list("contract_type", CONTRACT_TYPES), name="contract_type"),
        CheckConstraint("amount >= 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id"), unique=True)
    contract_type: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # 万元
    signed_on: Mapped[date]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    suggestion: Mapped[Suggestion] = relationship()
