"""Matching fairs (对接会), their meetings, and the contracts that pairs end in."""

from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from matchmaker.models.base import Base, in_list, utcnow
from matchmaker.models.matching import Suggestion

FAIR_STATUSES = ("draft", "open", "planned", "published", "closed")
MEETING_STATUSES = ("planned", "confirmed", "held", "no_show", "cancelled")
# National technology-contract categories.
CONTRACT_TYPES = ("技术开发", "技术转让", "技术许可", "技术咨询", "技术服务")


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
    registration_closes_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    status: Mapped[str] = mapped_column(String(20), default="planned")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    suggestion: Mapped[Suggestion] = relationship()


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
