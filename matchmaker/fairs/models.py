"""Matching fairs (对接会), their meetings, and the contracts that pairs end in."""

from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matchmaker.accounts.models import Organization
from matchmaker.core.db import Base, in_list, utcnow
from matchmaker.listings.models import Achievement, Need
from matchmaker.pairs.models import Suggestion

FAIR_STATUSES = ("draft", "open", "planned", "published", "closed")


class Fair(Base):
    __tablename__ = "fairs"
    __table_args__ = (
        CheckConstraint(in_list("status", FAIR_STATUSES), name="status"),
        CheckConstraint("tables_count > 0", name="tables_count"),
        CheckConstraint("slot_minutes > 0", name="slot_minutes"),
        CheckConstraint("default_quota > 0", name="default_quota"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    held_on: Mapped[date]
    venue: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[time] = mapped_column(default=time(9, 0))
    ends_at: Mapped[time] = mapped_column(default=time(17, 0))
    slot_minutes: Mapped[int] = mapped_column(default=20)
    slots_count: Mapped[int] = mapped_column(default=0)
    tables_count: Mapped[int] = mapped_column(default=10)
    default_quota: Mapped[int] = mapped_column(default=5)
    org_quota: Mapped[int | None]
    # Pairs scoring below this never meet at the fair; NULL: derived from the score distribution.
    min_score: Mapped[float | None] = mapped_column(Float)
    registration_closes_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Breaks inside the day as [["12:00", "13:00"], ...]; no slot starts or runs into one.
    breaks: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None]
    # Figures of the last plan (preview or publish): meetings, objective, slots used, ...
    plan_summary: Mapped[dict | None] = mapped_column(JSON)

    registrations: Mapped[list["FairRegistration"]] = relationship(
        back_populates="fair", cascade="all, delete-orphan", passive_deletes=True
    )


class FairRegistration(Base):
    """A listing taking part in a fair, with its own meeting quota when it differs."""

    __tablename__ = "fair_registrations"
    __table_args__ = (
        UniqueConstraint("fair_id", "need_id"),
        UniqueConstraint("fair_id", "achievement_id"),
        CheckConstraint(
            "(need_id IS NULL AND achievement_id IS NOT NULL)"
            " OR (need_id IS NOT NULL AND achievement_id IS NULL)",
            name="one_listing",
        ),
        CheckConstraint("quota IS NULL OR quota >= 0", name="quota"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"), index=True)
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"))
    achievement_id: Mapped[int | None] = mapped_column(
        ForeignKey("achievements.id", ondelete="CASCADE")
    )
    quota: Mapped[int | None]
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    fair: Mapped[Fair] = relationship(back_populates="registrations")
    need: Mapped[Need | None] = relationship()
    achievement: Mapped[Achievement | None] = relationship()

    @property
    def kind(self) -> str:
        return "need" if self.need_id is not None else "achievement"

    @property
    def listing(self) -> Need | Achievement:
        return self.need if self.need_id is not None else self.achievement


class FairParticipant(Base):
    """An organization at a fair: its meeting quota and the slots its representative cannot make."""

    __tablename__ = "fair_participants"
    __table_args__ = (
        UniqueConstraint("fair_id", "organization_id"),
        CheckConstraint("quota IS NULL OR quota >= 0", name="quota"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    quota: Mapped[int | None]
    unavailable_slots: Mapped[list] = mapped_column(JSON, default=list)  # 0-based slot numbers

    organization: Mapped[Organization] = relationship()


class MustMeet(Base):
    """A pair an organization asked to meet at a fair; the plan takes it whenever quotas allow."""

    __tablename__ = "fair_must_meets"
    __table_args__ = (UniqueConstraint("fair_id", "suggestion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"), index=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id", ondelete="CASCADE"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    suggestion: Mapped[Suggestion] = relationship()
