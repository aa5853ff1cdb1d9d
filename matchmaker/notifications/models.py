"""In-app notifications, the e-mail outbox and the record of sent digests."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from matchmaker.core.db import Base, in_list, utcnow

DIGEST_RECIPIENTS = ("user", "organization")


class Digest(Base):
    """One digest e-mail per recipient and period: the unique row is what stops a second send."""

    __tablename__ = "digests"
    __table_args__ = (
        UniqueConstraint("recipient_kind", "recipient_id", "period"),
        CheckConstraint(in_list("recipient_kind", DIGEST_RECIPIENTS), name="recipient_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_kind: Mapped[str] = mapped_column(String(20))
    recipient_id: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(20))
    emails: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class OutboxEmail(Base):
    """E-mail waiting to be sent by a worker; rows stay as the record of what was sent."""

    __tablename__ = "outbox_emails"
    __table_args__ = (
        CheckConstraint(in_list("status", ("pending", "sent", "failed", "logged")), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
